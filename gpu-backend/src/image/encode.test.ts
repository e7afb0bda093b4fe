import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeImage, type GeneratedImage } from './encode.js';

function gradient(width: number, height: number): GeneratedImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      rgb[p] = (x * 255) / (width - 1);
      rgb[p + 1] = (y * 255) / (height - 1);
      rgb[p + 2] = 128;
    }
  return { index: 0, width, height, rgb };
}

describe('encodeImage', () => {
  it('writes a lossless PNG whose pixels decode back exactly', async () => {
    const img = gradient(24, 16);
    const png = await encodeImage(img, 'png', 90, { seed: '1' });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 24, height: 16, channels: 3, format: 'raw' });
    expect(Buffer.from(data).equals(Buffer.from(img.rgb))).toBe(true);
  });

  it.each(['png', 'webp', 'jpeg'] as const)('writes %s of the right size and format with the metadata in EXIF', async (format) => {
    const buf = await encodeImage(gradient(32, 8), format, 80, { model: 'sd15-tiny-demo', seed: '42' });
    const meta = await sharp(buf).metadata();
    expect(meta.format).toBe(format);
    expect([meta.width, meta.height]).toEqual([32, 8]);
    expect(meta.exif?.toString('latin1')).toContain('{"model":"sd15-tiny-demo","seed":"42"}');
  });

  it('rejects pixel buffers of the wrong length', async () => {
    await expect(encodeImage({ index: 0, width: 4, height: 4, rgb: new Uint8Array(10) }, 'png', 90, {})).rejects.toThrow(RangeError);
  });
});
