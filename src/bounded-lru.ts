// LRU caches bounded by a number of entries that grow as they fill. lru-cache allocates its tables for `max`
// entries up front (about 28 bytes per entry, 44 with a ttl): the server's flood limiters and avatar caches asked
// for 10 MB of heap at start that way, before anyone connected. Bounding by `maxSize` with every entry counting 1
// keeps the same limit and eviction order with tables that grow with use.
import { LRUCache } from 'lru-cache';

const one = () => 1;

export function boundedLru<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(
  maxEntries: number,
  options: Omit<LRUCache.Options<K, V, unknown>, 'max' | 'maxSize' | 'sizeCalculation'> = {},
): LRUCache<K, V> {
  return new LRUCache<K, V>({ ...options, maxSize: maxEntries, sizeCalculation: one });
}
