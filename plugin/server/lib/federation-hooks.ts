// ActivityPub and podcast feed hooks. The pure builders live in ../federation/ (FEP-1970 attachment, the
// peertubeLiveChat object and context, <podcast:chat>); until they are wired nothing is added to what PeerTube
// publishes.
import type { PeerTubeOptions } from './peertube.js';
import type { LivechatRuntime } from './runtime.js';

type Hook = { target: string; handler: (...args: any[]) => unknown };

export function federationHooks(_o: PeerTubeOptions, _rt: () => LivechatRuntime | null): Hook[] {
  return [];
}
