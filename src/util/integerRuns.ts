/**
 * Ascending integers written compactly as runs: [1, 2, 3, 5, 7, 8] -> "1-3, 5, 7-8". Used to say which atom
 * counts a model knows, in the server's error messages and on the web page (bundled) alike.
 */
export function formatIntegerRuns(sorted: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(', ');
}
