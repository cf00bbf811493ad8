/**
 * A Durable Object's stub, made on first use and then kept by the store that asked (stores are
 * made per request or per use, src/services.ts, so a stub never crosses requests). Naming one
 * (`idFromName`, then `get`) costs several µs of CPU, and the request that matters most, an
 * incoming call answered from the resolver's memory, never reaches the store at all.
 */
export function lazyStub<T extends Rpc.DurableObjectBranded | undefined>(
  namespace: DurableObjectNamespace<T>,
  name: string,
): () => DurableObjectStub<T> {
  let stub: DurableObjectStub<T> | undefined;
  return () => {
    stub ??= namespace.get(namespace.idFromName(name));
    return stub;
  };
}
