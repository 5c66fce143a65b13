/**
 * Label files: line i is the label of class i. Triton reads them with std::getline, so a trailing
 * newline adds no empty label and a Windows '\r' stays part of each label; ofserve keeps that behaviour
 * (a client comparing labels with Triton's sees the same strings) and `validate` warns about CRLF.
 */

export function readLabels(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** True when any line ends in '\r' (a file saved with Windows line endings). */
export function hasCrlf(text: string): boolean {
  return text.includes('\r\n') || text.endsWith('\r');
}
