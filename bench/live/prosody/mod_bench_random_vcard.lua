-- Stand-in for livechat's random-vCard module, which Debian does not ship: every account on this host (anonymous
-- viewers) has a vCard whose PHOTO is one of a fixed set of avatars, picked from the username so it stays stable.
-- Written for the load harness in bench/live; behaviour, not code, follows the livechat plugin.
local st = require "util.stanza";
local jid_split = require "util.jid".split;
local base64 = require "util.encodings".base64.encode;

local dir = module:get_option_string("bench_random_vcard_avatars_path");
local files = module:get_option_array("bench_random_vcard_avatars_files", {});
assert(dir and #files > 0, "bench_random_vcard_avatars_path and _files are required");

local avatars = {};
for i, name in ipairs(files) do
	local f = assert(io.open(dir .. "/" .. name, "rb"));
	avatars[i] = { mime = "image/" .. name:match("%.(%w+)$"), b64 = base64(f:read("*a")) };
	f:close();
end

module:add_feature("vcard-temp");

module:hook("iq-get/bare/vcard-temp:vCard", function (event)
	local origin, stanza = event.origin, event.stanza;
	local user = jid_split(stanza.attr.to) or origin.username;
	if not user then
		origin.send(st.error_reply(stanza, "cancel", "item-not-found"));
		return true;
	end
	local sum = 0;
	for k = 1, #user do sum = (sum * 31 + user:byte(k)) % 1000003; end
	local a = avatars[sum % #avatars + 1];
	local vcard = st.stanza("vCard", { xmlns = "vcard-temp" })
		:tag("PHOTO")
			:text_tag("TYPE", a.mime)
			:text_tag("BINVAL", a.b64)
		:up();
	origin.send(st.reply(stanza):add_child(vcard));
	return true;
end);
