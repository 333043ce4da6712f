/**
 * Process CPU time (user + system, all threads) in milliseconds since an arbitrary origin. Time boxes and
 * cost accounting use it instead of the wall clock: on a shared machine the wall clock also counts the time
 * spent waiting for a core, which says nothing about the work done.
 */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
