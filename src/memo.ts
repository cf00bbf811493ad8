/**
 * `fn` remembered per key in this isolate, for pure functions that cost more than a map lookup
 * (libphonenumber's parse) and see few distinct inputs (a deployment's numbers and callers).
 * Bounded: the map is emptied when it holds `size` entries, so a flood of new keys costs memory
 * no longer than one fill.
 */
export function memoize<V>(fn: (key: string) => V, size: number): (key: string) => V {
  const memory = new Map<string, V>();
  return (key) => {
    if (memory.has(key)) return memory.get(key) as V;
    const value = fn(key);
    if (memory.size >= size) memory.clear();
    memory.set(key, value);
    return value;
  };
}
