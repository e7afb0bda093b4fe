/**
 * The one error a model directory reader throws: names the file and what is wrong with it.
 * @module
 */

/** A model directory is missing a file or holds a malformed one. `file` is the path that is missing or bad. */
export class ModelDirectoryError extends Error {
  override readonly name = 'ModelDirectoryError';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
  }
}
