/**
 * The tests' side of the Data API fake's freeze (test/fakes/data-api.ts), inside workerd, so
 * fetch only; `fakeUrl` is a namespace's URL (`fakeControl(testEnv.FAKE_DATA_API_URL).url`).
 */

async function post(url: string, body: object): Promise<void> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`Data API fake refused ${url}: ${response.status}`);
  await response.body?.cancel();
}

/** The store stops answering these actions (default: insertOne, updateOne, deleteOne). */
export function pauseDataApi(fakeUrl: string, actions?: string[]): Promise<void> {
  return post(`${fakeUrl}/__data_api/pause`, actions ? { actions } : {});
}

/** The store wakes up: held requests are applied and answered (or dropped with `discard`). */
export function resumeDataApi(fakeUrl: string, options: { discard?: boolean } = {}): Promise<void> {
  return post(`${fakeUrl}/__data_api/resume`, options);
}
