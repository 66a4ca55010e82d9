// Node-RED settings for the harness's tests: the flow's HTTP endpoints on loopback only, no
// editor and no admin API, no telemetry, diagnostics or update checks, nothing installed at
// run time. The test gives the port (--port), the user directory (--userDir, a temporary one
// holding flows.json) and DOWNSTREAM_URL, the base URL of the harness's downstream double.
module.exports = {
    uiHost: "127.0.0.1",
    httpAdminRoot: false,
    httpNodeRoot: "/",
    flowFile: "flows.json",
    flowFilePretty: true,
    credentialSecret: false,
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: {
        autoInstall: false,
        palette: { allowInstall: false, allowUpdate: false, allowUpload: false },
        modules: { allowInstall: false },
    },
    functionExternalModules: false,
    logging: { console: { level: "info", metrics: false, audit: false } },
};
