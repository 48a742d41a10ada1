// Runs async work over a list with bounded concurrency. On the first failure no further item
// starts, and the call waits for the items already running before it rejects: nothing keeps
// reading (or reopens a file that the caller is about to close) after the caller has moved on.
export async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const n = Math.max(1, Math.min(concurrency, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failure !== undefined) throw failure.error;
}
