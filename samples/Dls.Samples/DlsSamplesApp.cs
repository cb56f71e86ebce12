using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Dls.Audio.IO;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using TorchSharp;

namespace Dls.Samples;

/// <summary>The <c>dls-samples</c> command line: host commands plus every plugin's commands.</summary>
public static class DlsSamplesApp
{
    /// <summary>Runs the command line and returns the process exit code (0 success, 1 failure, 2 usage error).</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Standard output (results, the JSON line).</param>
    /// <param name="error">Standard error (errors, logs, plain progress).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        bool verbose = args.Contains("--verbose");
        using var host = new SampleHost(PluginLoader.Load(AppContext.BaseDirectory), output, error, verbose);

        // Torch starts one OpenMP worker per thread at once: --threads 1000 on a small container exhausted its process
        // limit and took the whole machine down. More threads than cores only slow torch, so beyond four per logical
        // processor is refused rather than attempted.
        var threads = new Option<int?>("--threads") { Description = "Torch intra-op threads (default: torch's choice).", Recursive = true }
            .Within(1, 4 * Environment.ProcessorCount, $"at most 4 per logical processor, this machine has {Environment.ProcessorCount}");
        var verboseOption = new Option<bool>("--verbose") { Description = "Show debug logs and full stack traces.", Recursive = true };
        var root = new RootCommand("Dls samples: reproduce the deep-learning-systems assignment with the Dls libraries.");
        root.Options.Add(threads);
        root.Options.Add(verboseOption);
        root.Subcommands.Add(EnvCommand(host));
        root.Subcommands.Add(ListCommand(host));
        root.Subcommands.Add(RunCommand(host));
        root.Subcommands.Add(ReproduceCommand(host));
        root.Subcommands.Add(BenchCommand(host));
        root.Subcommands.Add(WeightsCommand.Create(host));
        foreach (ISamplePlugin plugin in host.Plugins)
        {
            foreach (Command command in plugin.CreateCommands(host))
            {
                root.Subcommands.Add(command);
            }
        }

        ParseResult parse;
        try
        {
            parse = root.Parse(args);
        }
        catch (Exception e)
        {
            // A validator that throws (it should add an error instead) still ends in one error line, not a crash.
            return ReportFailure(e, error, verbose);
        }

        if (parse.Errors.Count > 0)
        {
            // "dls-samples frobnicate" matches no command: System.CommandLine then reports the missing command too, which
            // only repeats the unrecognized one; that line is left out when an unknown token explains it.
            bool unknownCommand = parse.CommandResult.Command == root && parse.UnmatchedTokens.Count > 0;
            foreach (var parseError in parse.Errors)
            {
                if (unknownCommand && parseError.SymbolResult == parse.RootCommandResult
                    && !parse.UnmatchedTokens.Any(token => parseError.Message.Contains($"'{token}'", StringComparison.Ordinal)))
                {
                    continue;
                }

                error.WriteLine($"error: {parseError.Message}");
            }

            error.WriteLine("Run 'dls-samples --help' for usage.");
            return 2;
        }

        try
        {
            if (parse.GetValue(threads) is int n)
            {
                torch.set_num_threads(n);
            }

            var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = output, Error = error };
            return await parse.InvokeAsync(invocation);
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("error: cancelled.");
            return 130;
        }
        catch (Exception e)
        {
            return ReportFailure(e, error, verbose);
        }
    }

    /// <summary>Writes the one error line of a failure (and the stack trace with --verbose); returns exit code 1.</summary>
    private static int ReportFailure(Exception e, TextWriter error, bool verbose)
    {
        Exception shown = e is TypeInitializationException { InnerException: { } inner } ? inner : e;
        error.WriteLine($"error: {UserMessage(shown)}");
        if (verbose)
        {
            error.WriteLine(e.ToString());
        }
        else
        {
            error.WriteLine("(run with --verbose for details)");
        }

        return 1;
    }

    /// <summary>
    /// The message for the error line: an ArgumentException's own text, without the " (Parameter 'snrDb')" (and "Actual
    /// value was …") that .NET appends — a library's parameter name means nothing to someone typing a command.
    /// </summary>
    internal static string UserMessage(Exception e)
    {
        if (e is ArgumentException { ParamName: { Length: > 0 } name })
        {
            string suffix = $" (Parameter '{name}')";
            int at = e.Message.IndexOf(suffix, StringComparison.Ordinal);
            if (at > 0)
            {
                return e.Message[..at];
            }
        }

        return e.Message;
    }

    private static Command EnvCommand(SampleHost host)
    {
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON line." };
        var command = new Command("env", "TorchSharp/libtorch versions, threads, the libstdc++ fix, OS and CPU.") { json };
        command.SetAction(parse =>
        {
            string native = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            var info = new JsonObject
            {
                ["torchsharp_version"] = typeof(torch).Assembly.GetName().Version?.ToString(3),
                ["libtorch_version"] = torch.__version__,
                ["torch_threads"] = torch.get_num_threads(),
                ["torch_interop_threads"] = torch.get_num_interop_threads(),
                ["libstdcxx_fix_applied"] = File.Exists(native + ".dls-native-fix"),
                ["os"] = RuntimeInformation.OSDescription,
                ["architecture"] = RuntimeInformation.OSArchitecture.ToString(),
                ["cpu"] = CpuName(),
                ["logical_cores"] = Environment.ProcessorCount,
                ["dotnet"] = RuntimeInformation.FrameworkDescription,
            };
            if (parse.GetValue(json))
            {
                host.WriteJsonResult(info);
            }
            else
            {
                foreach ((string key, JsonNode? value) in info)
                {
                    host.Out.WriteLine($"{key,-22} {value}");
                }
            }
        });
        return command;
    }

    private static Command ListCommand(SampleHost host)
    {
        var command = new Command("list", "The plugins, their tasks and benchmarks.");
        command.SetAction(_ =>
        {
            foreach (ISamplePlugin plugin in host.Plugins)
            {
                host.Out.WriteLine($"{plugin.Name} — {plugin.Description}");
                foreach (SampleTask task in plugin.Tasks)
                {
                    host.Out.WriteLine($"  run {task.Name,-22} {task.Description}{(task.IncludeInReproduce ? "" : " (not in reproduce)")}");
                }

                foreach (BenchmarkArea bench in plugin.Benchmarks)
                {
                    host.Out.WriteLine($"  bench {bench.Name,-20} {bench.Description}");
                }
            }
        });
        return command;
    }

    private static Command RunCommand(SampleHost host)
    {
        var taskName = new Argument<string>("task") { Description = "The task to run (see 'list')." };
        taskName.Validators.Add(result =>
        {
            string? name = result.GetValueOrDefault<string>();
            if (name is not null && !host.AllTasks().Any(t => string.Equals(t.Task.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                result.AddError($"Unknown task '{name}': expected one of {string.Join(", ", host.AllTasks().Select(t => t.Task.Name))}.");
            }
        });
        var data = new Option<string?>("--data") { Description = "Data folder (default: the embedded data)." };
        var outDir = new Option<string>("--out") { Description = "Results folder.", DefaultValueFactory = _ => "results" }.AsOutputFolder();
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 42 }.Within(0, int.MaxValue);
        var quick = new Option<bool>("--quick") { Description = "A shortened run (minutes to seconds), for smoke tests." };
        var command = new Command("run", "Run one task.") { taskName, data, outDir, seed, quick };
        command.SetAction(async (parse, ct) =>
        {
            string name = parse.GetValue(taskName)!;
            var match = host.AllTasks().First(t => string.Equals(t.Task.Name, name, StringComparison.OrdinalIgnoreCase));   // checked while parsing

            var context = new TaskContext(host, parse.GetValue(outDir)!, parse.GetValue(data), parse.GetValue(seed), parse.GetValue(quick),
                host.LoggerFactory.CreateLogger(match.Task.Name));
            await WithProgress(host, () => match.Task.RunAsync(context, ct));
            host.Out.WriteLine($"{match.Task.Name}: results in {context.OutputDirectory}");
            return 0;
        });
        return command;
    }

    private static Command ReproduceCommand(SampleHost host)
    {
        var outDir = new Option<string>("--out") { Description = "Results folder.", DefaultValueFactory = _ => "results" }.AsOutputFolder();
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 42 }.Within(0, int.MaxValue);
        var quick = new Option<bool>("--quick") { Description = "A shortened run of every task, for smoke tests." };
        var command = new Command("reproduce", "Run every task on the embedded data and write results/report.md.") { outDir, seed, quick };
        command.SetAction(async (parse, ct) =>
        {
            var tasks = host.AllTasks().Where(t => t.Task.IncludeInReproduce)
                .Select((t, i) => (t.Plugin, t.Task, Index: i)).OrderBy(t => t.Task.Order).ThenBy(t => t.Index).ToList();
            string output = parse.GetValue(outDir)!;
            bool isQuick = parse.GetValue(quick);
            var report = new StringBuilder();
            report.AppendLine("# Dls — reproduction of the assignment results").AppendLine();
            report.AppendLine($"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(isQuick ? " with --quick (shortened: figures are smoke-test values, not results)" : "")}; " +
                $"TorchSharp {typeof(torch).Assembly.GetName().Version?.ToString(3)}, libtorch {torch.__version__}, {torch.get_num_threads()} threads, " +
                $"{RuntimeInformation.OSDescription}, {CpuName()}.").AppendLine();
            report.AppendLine("| task | status | time (s) |").AppendLine("|---|---|---|");
            var sections = new List<string>();
            int failures = 0;
            foreach (var (plugin, task, _) in tasks)
            {
                var context = new TaskContext(host, output, null, parse.GetValue(seed), isQuick, host.LoggerFactory.CreateLogger(task.Name));
                var clock = Stopwatch.StartNew();
                string status = "ok";
                try
                {
                    host.Error.WriteLine($"== {plugin.Name}/{task.Name}");
                    await WithProgress(host, () => task.RunAsync(context, ct));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures++;
                    status = "failed: " + e.Message.ReplaceLineEndings(" ");
                    host.Error.WriteLine($"error: {task.Name}: {e.Message}");
                }

                report.AppendLine($"| {task.Name} | {status.Replace("|", "\\|")} | {clock.Elapsed.TotalSeconds:F1} |");
                // The sections this task wrote, whatever it named them.
                var written = context.Results.WrittenSections.Where(File.Exists).ToList();
                sections.AddRange(written.Select(File.ReadAllText));
                // A failed task's section of an earlier run (<task>.md) stays in the report, marked, rather than vanishing.
                string earlier = context.Results.PathFor(task.Name + ".md");
                if (status != "ok" && !written.Contains(earlier) && File.Exists(earlier))
                {
                    sections.Add($"> **{task.Name} failed in this run** ({status}); the section below is from an earlier run, " +
                        $"written {File.GetLastWriteTimeUtc(earlier):yyyy-MM-dd HH:mm} UTC.\n\n" + File.ReadAllText(earlier));
                }
            }

            report.AppendLine();
            foreach (string section in sections)
            {
                report.AppendLine(section.TrimEnd()).AppendLine();
            }

            var writer = new ResultsWriter(output);
            AtomicFile.WriteAllText(writer.PathFor("report.md"), report.ToString());
            host.Out.WriteLine($"report: {writer.PathFor("report.md")} ({tasks.Count - failures}/{tasks.Count} tasks ok)");
            return failures == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command BenchCommand(SampleHost host)
    {
        var area = new Argument<string>("area") { Description = "What to measure (see 'list')." };
        area.Validators.Add(result =>
        {
            string? name = result.GetValueOrDefault<string>();
            var all = host.Plugins.SelectMany(p => p.Benchmarks).ToList();
            if (name is not null && !all.Any(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                result.AddError($"Unknown benchmark area '{name}': expected one of {string.Join(", ", all.Select(b => b.Name))}.");
            }
        });
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object on the last stdout line." };
        var quick = new Option<bool>("--quick") { Description = "Measure briefly (smoke test; figures are noisy)." };
        var command = new Command("bench", "Measure speed; prints figures (JSON with --json).") { area, json, quick };
        command.SetAction(async (parse, ct) =>
        {
            string name = parse.GetValue(area)!;
            var all = host.Plugins.SelectMany(p => p.Benchmarks).ToList();
            BenchmarkArea bench = all.First(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase));   // checked while parsing
            var context = new BenchContext(host, parse.GetValue(quick), host.LoggerFactory.CreateLogger("bench." + bench.Name));
            JsonObject figures = null!;
            // The machine's core-to-core latency before and after: on a virtual machine it can change between runs,
            // and multi-threaded figures with it (CoreLatencyProbe says how); omitted on one processor.
            double? latencyStart = CoreLatencyProbe.RoundTripNanoseconds();
            await WithProgress(host, async () => figures = await bench.RunAsync(context, ct));
            double? latencyEnd = CoreLatencyProbe.RoundTripNanoseconds();
            figures["torch_threads"] ??= torch.get_num_threads();
            if (latencyStart is double start && latencyEnd is double end)
            {
                figures["core_round_trip_ns_start"] ??= Math.Round(start, 1);
                figures["core_round_trip_ns_end"] ??= Math.Round(end, 1);
            }
            if (parse.GetValue(json))
            {
                host.WriteJsonResult(figures);
            }
            else
            {
                foreach ((string key, JsonNode? value) in figures)
                {
                    host.Out.WriteLine($"{key,-36} {value}");
                }
            }

            return 0;
        });
        return command;
    }

    /// <summary>Runs <paramref name="work"/> inside a live progress display on a terminal, plainly otherwise.</summary>
    private static async Task WithProgress(SampleHost host, Func<Task> work)
    {
        bool interactive = !Console.IsErrorRedirected && !Console.IsOutputRedirected && ReferenceEquals(host.Error, Console.Error);
        if (!interactive || host.ProgressReporter.Live is not null)
        {
            await work();
            return;
        }

        await AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async live =>
            {
                host.ProgressReporter.Live = live;
                try
                {
                    await work();
                }
                finally
                {
                    host.ProgressReporter.Live = null;
                }
            });
    }

    private static string CpuName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null)
                {
                    return line[(line.IndexOf(':') + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
            // Fall through to the architecture name.
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
