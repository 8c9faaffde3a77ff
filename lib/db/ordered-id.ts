import { randomBytes } from 'node:crypto';

/**
 * A UUIDv7 (RFC 9562) whose text order is its creation order within this process.
 *
 * Steps are listed by `startedAt` (millisecond precision) and then by id; with random ids, two
 * steps started in the same millisecond came back in either order, so a trace could show a step
 * before the one that fed it. The 12-bit `rand_a` field counts within a millisecond (RFC 9562
 * §6.2, method 1); when it overflows, the clock is borrowed forward a millisecond, so the order
 * holds even for more than 4,096 ids in one millisecond.
 */
let lastMs = 0;
let counter = 0;

/** Ids' random bits are drawn this many ids at a time: one getrandom call per step showed in profiles. */
const IDS_PER_DRAW = 256;
let pool = Buffer.alloc(0);
let offset = 0;

function random16(): Buffer {
  if (offset + 16 > pool.length) {
    pool = randomBytes(16 * IDS_PER_DRAW);
    offset = 0;
  }
  offset += 16;
  return pool.subarray(offset - 16, offset);
}

export function orderedId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter > 0xfff) {
    lastMs += 1;
    counter = 0;
  }
  const bytes = random16();
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
