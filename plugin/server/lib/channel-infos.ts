// A local channel as livechat's channel configuration API shows it: { id, name (the handle), displayName,
// ownerAccountId }, plus its owner's username for room affiliations. Only local channels (their account has a
// PeerTube user). PeerTube 8 links the actor to the channel (actor.videoChannelId), PeerTube 7 the other way
// (videoChannel.actorId): the first form is tried, then the second.

export interface ChannelInfos {
  id: number;
  name: string;
  displayName: string;
  ownerAccountId: number;
}

export type Query = <T>(sql: string, replacements: Record<string, unknown>) => Promise<T[]>;

const SELECT =
  'SELECT "videoChannel"."id" AS "id", "videoChannel"."name" AS "displayName", ' +
  '"videoChannel"."accountId" AS "ownerAccountId", "actor"."preferredUsername" AS "name" FROM "videoChannel" ';
const LOCAL =
  'INNER JOIN "account" ON "account"."id" = "videoChannel"."accountId" ' +
  'INNER JOIN "user" ON "user"."id" = "account"."userId" WHERE "videoChannel"."id" = :channelId LIMIT 1';
const V8 = `${SELECT}INNER JOIN "actor" ON "actor"."videoChannelId" = "videoChannel"."id" ${LOCAL}`;
const V7 = `${SELECT}INNER JOIN "actor" ON "actor"."id" = "videoChannel"."actorId" ${LOCAL}`;

let form: string | undefined;

export async function loadChannelInfos(query: Query, channelId: number): Promise<ChannelInfos | null> {
  if (!Number.isSafeInteger(channelId) || channelId <= 0) return null;
  let rows: Array<Partial<ChannelInfos>>;
  try {
    rows = await query(form ?? V8, { channelId });
    form ??= V8;
  } catch (err) {
    if (form) throw err;
    rows = await query(V7, { channelId });
    form = V7;
  }
  const r = rows[0];
  if (!r || r.id === undefined) return null;
  return {
    id: Number(r.id),
    name: r.name ?? '',
    displayName: r.displayName ?? '',
    ownerAccountId: Number(r.ownerAccountId),
  };
}
