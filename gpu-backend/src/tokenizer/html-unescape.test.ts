import { describe, expect, it } from 'vitest';
import { htmlUnescape } from './html-unescape.js';

describe('htmlUnescape', () => {
  it.each([
    ['&lt;b&gt; &quot;x&quot; &#39;y&#39;', '<b> "x" \'y\''],
    ['&#x1F680; &#128640;', '🚀 🚀'],
    ['caf&eacute; &copy;2024', 'café ©2024'],
    ['&amp;amp;', '&amp;'],
    ['AT&T &ampfoo', 'AT&T &foo'],
    ['&#150; &#0; &#x110000;', '\u2013 \ufffd \ufffd'],
    ['&unknownentity; & alone', '&unknownentity; & alone'],
    ['&#65', 'A'],
  ])('decodes %j as %j', (input, expected) => {
    expect(htmlUnescape(input)).toBe(expected);
  });
});
