using Dls.Samples.Speaker;
using Dls.Speaker.Evaluation;
using Dls.Speaker.Metrics;

namespace Dls.Samples.Tests;

public sealed class FalseAcceptCalibrationTests
{
    private static SpeakerEvaluationResult Scored(double[] targets, double[] nonTargets) =>
        new(2, 4, targets, nonTargets, VerificationMetrics.EqualErrorRate(targets, nonTargets), VerificationMetrics.MinDcf(targets, nonTargets));

    [Fact]
    public void CalibrateAtFalseAcceptRate_ResolvableRate_LowestThresholdWithinIt()
    {
        // Ten different-speaker scores 0.0 … 0.9: a 10 % budget allows one false accept (0.9). The thresholds tried are the
        // scores; the lowest that accepts no more than 0.9 of them is the target score 0.85, which keeps every target
        // (0.8 would accept two different-speaker trials, 20 %). A 5 % budget allows none: the next score above 0.9, 0.95,
        // which misses the target 0.85 (1 of 4).
        double[] nonTargets = Enumerable.Range(0, 10).Select(i => i / 10.0).ToArray();
        var scored = Scored([0.85, 0.95, 0.97, 0.99], nonTargets);
        var (point, line) = SpeakerCommands.CalibrateAtFalseAcceptRate(scored, 0.1);
        var (strict, strictLine) = SpeakerCommands.CalibrateAtFalseAcceptRate(scored, 0.05);

        Assert.Equal(new DetPoint(0.85, 0.0, 0.1), point);
        Assert.Contains("threshold 0.8500: miss 0.00 %, false accept 10.00 % (pass it as verify --threshold)", line);
        Assert.Equal(new DetPoint(0.95, 0.25, 0.0), strict);
        Assert.Contains("threshold 0.9500: miss 25.00 %, false accept 0.00 %", strictLine);
    }

    [Fact]
    public void CalibrateAtFalseAcceptRate_OnlyRejectingEverythingMeetsIt_NoThresholdAndWhatToDo()
    {
        // The highest score is a different-speaker trial's: with 4 of them, a 1 % budget allows none to be accepted, and
        // no target lies above it, so only +∞ (reject everything) meets it.
        var (point, line) = SpeakerCommands.CalibrateAtFalseAcceptRate(Scored([0.5, 0.6], [0.1, 0.2, 0.3, 0.9]), 0.01);

        Assert.Null(point);
        Assert.Contains("no threshold: only rejecting everything meets it on these 4 different-speaker trials; score more of them (well over 100) or ask for a higher rate", line);
    }

    [Fact]
    public void CalibrateAtFalseAcceptRate_ZeroRateAboveEveryTarget_NoThresholdAndOnlyAHigherRateHelps()
    {
        // A 0 % budget accepts no different-speaker trial however many are scored: the line asks for a higher rate only
        // (scoring more trials cannot help, unlike for a small positive rate).
        var (point, line) = SpeakerCommands.CalibrateAtFalseAcceptRate(Scored([0.5, 0.6], [0.1, 0.9]), 0.0);

        Assert.Null(point);
        Assert.Equal("at FAR 0.00 %  no threshold: only rejecting everything meets it on these 2 different-speaker trials; ask for a higher rate", line);
    }
}
