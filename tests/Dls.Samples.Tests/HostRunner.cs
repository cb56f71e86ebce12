using System.Text.Json.Nodes;

namespace Dls.Samples.Tests;

/// <summary>Runs the dls-samples command line in-process and captures what it prints.</summary>
internal static class HostRunner
{
    /// <summary>Serializes the tests that swap the process's console writers (one swap at a time).</summary>
    private static readonly SemaphoreSlim ConsoleGate = new(1, 1);

    /// <summary>Runs the command line with its own writers: results on <c>Out</c>; errors, logs and plain progress on <c>Err</c>.</summary>
    public static async Task<(int ExitCode, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await DlsSamplesApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
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
