import fc from 'fast-check';

/** Tokens as clients send them: Tinybird-style (p.xxx), JWTs (a.b.c), or any printable ASCII without spaces. */
export const tokenArb = fc.oneof(
  fc.string({
    unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.'),
    minLength: 12,
    maxLength: 80,
  }),
  fc
    .string({ unit: 'grapheme-ascii', minLength: 12, maxLength: 60 })
    .filter((t) => t.trim() === t && !/\s/.test(t)),
);
