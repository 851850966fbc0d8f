// What one room's archive needs from the archive that owns it (shared by the room's parts).
import type { ArchiveConfig } from './config.js';
import type { RoomArchive } from './room-archive.js';
import type { SharedWakeups } from '../shared-wakeups.js';

export type ArchiveLog = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface RoomContext {
  config: ArchiveConfig;
  expiryMs: number;
  spanMs: number;
  now(): number;
  log: ArchiveLog;
  /** Called on every append / history read: keeps the room in the hot-room LRU. */
  touched(room: RoomArchive): void;
  /** Bytes waiting to be written, across all rooms. */
  pendingDelta(delta: number): void;
  overloaded(): boolean;
  /** A batch reached the disk (ArchiveStats.writes). */
  wrote(): void;
  /** Wake-ups coming anyway, which writes wait for rather than waking the process themselves (shared-wakeups.ts). */
  wakeups?: SharedWakeups;
}
