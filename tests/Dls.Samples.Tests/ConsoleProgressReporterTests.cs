using Spectre.Console;

namespace Dls.Samples.Tests;

public sealed class ConsoleProgressReporterTests
{
    [Fact]
    public void Dispose_AllStepsDone_SaysDone()
    {
        var output = new StringWriter();
        var reporter = new ConsoleProgressReporter(output, TimeSpan.FromHours(1));

        using (var task = reporter.Start("denoise", 3))
        {
            task.Increment(3);
        }

        Assert.StartsWith("[denoise] done in ", output.ToString());
    }

    [Fact]
    public void Dispose_StepsMissing_SaysWhereItEndedNotDone()
    {
        // What a failed or cancelled run leaves: the error line follows, and the progress line must not claim completion.
        var output = new StringWriter();
        var reporter = new ConsoleProgressReporter(output, TimeSpan.FromHours(1));

        using (var task = reporter.Start("baseline epoch 1/5", 469))
        {
            task.Report(120, "loss 1.6145");
        }

        string line = output.ToString();
        Assert.StartsWith("[baseline epoch 1/5] ended at 120/469 after ", line);
        Assert.Contains(" — loss 1.6145", line);
        Assert.DoesNotContain("done", line);
    }

    [Fact]
    public void Dispose_Twice_WritesTheEndLineOnce()
    {
        var output = new StringWriter();
        var reporter = new ConsoleProgressReporter(output, TimeSpan.FromHours(1));
        var task = reporter.Start("evaluate", 2);
        task.Increment(2);

        task.Dispose();
        task.Dispose();

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("[evaluate] done in ", Assert.Single(lines));
    }

    [Fact]
    public void PlainTask_IntervalElapsed_PrintsPercentCountAndTheLastStatusGiven()
    {
        // A zero interval prints at every report. The elapsed time is printed in whole seconds and matched as any number
        // (a busy machine may take a second); everything else is compared exactly.
        var output = new StringWriter();
        var reporter = new ConsoleProgressReporter(output, TimeSpan.Zero);

        using (var task = reporter.Start("evaluate", 4))
        {
            task.Report(1);                 // no status yet: none printed
            task.Report(2, "file b.wav");
            task.Increment();               // the last status stays
        }

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^\[evaluate\] 25% \(1/4, \d+ s\)$", lines[0]);
        Assert.Matches(@"^\[evaluate\] 50% \(2/4, \d+ s\) file b\.wav$", lines[1]);
        Assert.Matches(@"^\[evaluate\] 75% \(3/4, \d+ s\) file b\.wav$", lines[2]);
        Assert.Matches(@"^\[evaluate\] ended at 3/4 after \d+\.\d s — file b\.wav$", lines[3]);
    }

    [Fact]
    public void PlainTask_CompletedBeyondTotal_PercentStopsAtOneHundred()
    {
        var output = new StringWriter();
        var reporter = new ConsoleProgressReporter(output, TimeSpan.Zero);

        using (var task = reporter.Start("train", 2))
        {
            task.Report(5);
        }

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("[train] 100% (5/2, ", lines[0]);
        Assert.StartsWith("[train] done in ", lines[1]);
    }

    [Fact]
    public void LiveTask_ReportIncrementDispose_DriveTheBarAndStopItWhereItGot()
    {
        // A terminal console (ANSI, interactive) writing into a string: what the live display last drew stays readable.
        // Spectre's default enrichers would turn it non-interactive where a CI variable is set (GITHUB_ACTIONS, TF_BUILD …),
        // and its fallback renderer draws something else: they are switched off.
        var screen = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes, Out = new AnsiConsoleOutput(screen),
            Enrichment = new ProfileEnrichment { UseDefaultEnrichers = false },
        });
        var plain = new StringWriter();
        var reporter = new ConsoleProgressReporter(plain, TimeSpan.Zero);
        bool finishedBeforeDispose = true, finishedAfterDispose = false;

        console.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new PercentageColumn()).Start(live =>
        {
            reporter.Live = live;
            var task = reporter.Start("train [x]", 10);
            task.Report(3, "loss 1.25");
            task.Increment(2);
            finishedBeforeDispose = live.IsFinished;
            task.Dispose();
            finishedAfterDispose = live.IsFinished;
        });

        Assert.False(finishedBeforeDispose);
        // Disposing stops the bar at 5 of 10: a failed or cancelled step is not drawn as complete.
        Assert.True(finishedAfterDispose);
        string drawn = screen.ToString();
        // The description is escaped (its brackets are not markup), the status follows it, 3 + 2 of 10 steps are 50 %.
        Assert.Contains("train [x] loss 1.25  50%", drawn);
        Assert.DoesNotContain("100%", drawn);
        Assert.Equal("", plain.ToString());   // no plain lines while a live display runs
    }

    [Fact]
    public void LiveTask_ReportWithoutStatus_KeepsTheDescriptionShown()
    {
        var screen = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes, Out = new AnsiConsoleOutput(screen),
            Enrichment = new ProfileEnrichment { UseDefaultEnrichers = false },
        });
        var reporter = new ConsoleProgressReporter(TextWriter.Null, TimeSpan.Zero);

        console.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new PercentageColumn()).Start(live =>
        {
            reporter.Live = live;
            using var task = reporter.Start("denoise", 4);
            task.Report(1, "a.wav");
            task.Report(3);   // a count only: the status of the earlier report stays on the bar
        });

        // The last drawing (when the display ends) shows the count of the second report beside the first one's status.
        Assert.Contains("denoise a.wav  75%", screen.ToString());
    }
}
