using System.Text.Json.Nodes;

namespace Dls.Samples.Tests;

/// <summary>Runs the dls-samples command line in-process and captures what it prints.</summary>
internal static class HostRunner
{
    /// <summary>Serializes the tests that swap the process's console writers (one swap at a time).</summary>
    private static readonly SemaphoreSlim ConsoleGate = new(1, 1);

    public static async Task<(int ExitCode, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await DlsSamplesApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>
    /// Runs like <see cref="RunAsync"/> and also returns the log lines. The host logs through the console logger, which
    /// takes <see cref="Console.Error"/> when the host starts and has written everything by the time the host is
    /// disposed (the end of the run): <see cref="Console.Error"/> is pointed at a buffer for the run. Hosts of other tests
    /// started meanwhile may log into that buffer too, so look for lines, never for the whole text.
    /// </summary>
    public static async Task<(int ExitCode, string Out, string Err, string Logs)> RunWithLogsAsync(params string[] args)
    {
        var logs = new StringWriter();
        int code = 0;
        string output = "", error = "";
        await WithConsoleAsync(Console.Out, logs, async () => (code, output, error) = await RunAsync(args));
        return (code, output, error, logs.ToString());
    }

    /// <summary>Points <see cref="Console.Out"/> and <see cref="Console.Error"/> at the given writers while <paramref name="run"/> runs.</summary>
    public static async Task WithConsoleAsync(TextWriter output, TextWriter error, Func<Task> run)
    {
        await ConsoleGate.WaitAsync();
        TextWriter originalOut = Console.Out, originalError = Console.Error;
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            await run();
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
            ConsoleGate.Release();
        }
    }

    /// <summary>The JSON object on the last non-empty stdout line (the --json contract).</summary>
    public static JsonObject LastJsonLine(string stdout)
    {
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        return JsonNode.Parse(last)!.AsObject();
    }
}
