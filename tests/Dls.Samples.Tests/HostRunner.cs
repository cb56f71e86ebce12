using System.Text.Json.Nodes;

namespace Dls.Samples.Tests;

/// <summary>Runs the dls-samples command line in-process and captures what it prints.</summary>
internal static class HostRunner
{
    public static async Task<(int ExitCode, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await DlsSamplesApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>The JSON object on the last non-empty stdout line (the --json contract).</summary>
    public static JsonObject LastJsonLine(string stdout)
    {
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        return JsonNode.Parse(last)!.AsObject();
    }
}
