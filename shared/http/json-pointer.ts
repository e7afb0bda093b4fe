/**
 * JSON Pointers (RFC 6901) for locations in a request: `''` is the whole document, `/input/width` a member.
 * @module
 */

/** The pointer of the whole document. */
export const ROOT_POINTER = '';

/** Escapes one reference token (`~` → `~0`, `/` → `~1`). */
function escapeToken(token: PropertyKey): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The JSON Pointer of a path of keys and indexes; the empty path is the whole document (`''`). */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((token) => `/${escapeToken(token)}`).join('');
}
