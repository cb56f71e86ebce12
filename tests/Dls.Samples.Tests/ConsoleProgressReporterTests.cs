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
}
