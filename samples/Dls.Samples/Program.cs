using Dls.Samples;

return await DlsSamplesApp.RunAsync(args);
