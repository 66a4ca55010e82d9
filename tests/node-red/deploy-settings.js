// settings.js with the admin API on (no editor), as a deploy needs it: POST /flows with
// Node-RED-Deployment-Type: reload stops every flow and starts them again from flows.json.
module.exports = { ...require("./settings.js"), httpAdminRoot: "/", disableEditor: true };
