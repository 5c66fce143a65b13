/**
 * Label files: line i is the label of class i. Editors leave artefacts that are not labels: Windows line
 * endings and blank lines at the end of the file. Both are accepted, as Triton accepts the file, and
 * dropped, so a file saved on Windows gives 'cat', not 'cat\r', and a trailing blank line does not count
 * as one more class. Blank lines in the middle stay: they keep the classes after them in place.
 */
export function readLabels(text: string): string[] {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  return lines;
}
