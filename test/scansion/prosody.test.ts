// Validates the replay tool itself: every transcript against Debian's Prosody, the server that wrote them.
// If this fails, the tool is wrong, not our server.
process.env.SCANSION_TARGET = 'prosody';
await import('./scansion.test.js');
