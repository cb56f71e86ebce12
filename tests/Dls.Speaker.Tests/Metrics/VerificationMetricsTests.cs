using Dls.Speaker.Metrics;

namespace Dls.Speaker.Tests.Metrics;

public sealed class VerificationMetricsTests
{
    // Hand-worked case: targets {0.9, 0.8, 0.4}, non-targets {0.7, 0.3, 0.2, 0.1}; accept when score ≥ t.
    //   t:     0.1   0.2   0.3   0.4   0.7   0.8   0.9   +inf
    //   Pmiss: 0     0     0     0     1/3   1/3   2/3   1
    //   Pfa:   1     3/4   1/2   1/4   1/4   0     0     0
    private static readonly double[] Targets = [0.9, 0.8, 0.4];
    private static readonly double[] NonTargets = [0.7, 0.3, 0.2, 0.1];
    private const double Exact = 1e-12; // only floating-point rounding of a few divisions

    [Fact]
    public void DetCurve_SmallCase_MatchesHandTable()
    {
        var det = VerificationMetrics.DetCurve(Targets, NonTargets);
        double[] thresholds = [0.1, 0.2, 0.3, 0.4, 0.7, 0.8, 0.9, double.PositiveInfinity];
        double[] miss = [0, 0, 0, 0, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1];
        double[] fa = [1, 0.75, 0.5, 0.25, 0.25, 0, 0, 0];
        Assert.Equal(thresholds.Length, det.Count);
        for (int i = 0; i < det.Count; i++)
        {
            Assert.Equal(thresholds[i], det[i].Threshold);
            Assert.Equal(miss[i], det[i].MissRate, Exact);
            Assert.Equal(fa[i], det[i].FalseAcceptRate, Exact);
        }
    }

    [Fact]
    public void EqualErrorRate_SmallCase_InterpolatesBetweenBracketingPoints()
    {
        // Crossing between t=0.4 (Pmiss−Pfa = −1/4) and t=0.7 (+1/12): alpha = (1/4)/(1/4+1/12) = 3/4,
        // EER = 0 + 3/4·1/3 = 1/4, threshold = 0.4 + 3/4·0.3 = 0.625.
        var eer = VerificationMetrics.EqualErrorRate(Targets, NonTargets);
        Assert.Equal(0.25, eer.Eer, Exact);
        Assert.Equal(0.625, eer.Threshold, Exact);
    }

    [Fact]
    public void EqualErrorRate_SeparableScores_IsZero()
    {
        var eer = VerificationMetrics.EqualErrorRate([0.9, 0.8], [0.1, 0.2]);
        Assert.Equal(0.0, eer.Eer, Exact);
        Assert.InRange(eer.Threshold, 0.2, 0.8);
    }

    [Fact]
    public void MinDcf_SmallCase_MatchesHandMinimum()
    {
        // p = 0.01, C_miss = C_fa = 1: normalized DCF = (0.01·Pmiss + 0.99·Pfa)/0.01 = Pmiss + 99·Pfa,
        // minimal at t = 0.8 with Pmiss = 1/3, Pfa = 0.
        var dcf = VerificationMetrics.MinDcf(Targets, NonTargets);
        Assert.Equal(1.0 / 3, dcf.MinDcf, Exact);
        Assert.Equal(0.8, dcf.Threshold);
    }

    [Fact]
    public void MinDcf_BalancedPrior_UsesOtherNormalization()
    {
        // p = 0.5: DCF/0.5 = Pmiss + Pfa; minimum 1/4 at t = 0.4 (0 + 1/4) — smaller than 1/3 at 0.8.
        var dcf = VerificationMetrics.MinDcf(Targets, NonTargets, pTarget: 0.5);
        Assert.Equal(0.25, dcf.MinDcf, Exact);
        Assert.Equal(0.4, dcf.Threshold);
    }

    [Fact]
    public void OperatingPointAtFalseAcceptRate_SmallCase_PicksLowestQualifyingThreshold()
    {
        var p = VerificationMetrics.OperatingPointAtFalseAcceptRate(Targets, NonTargets, 0.3);
        Assert.Equal(0.4, p.Threshold);
        Assert.Equal(0.0, p.MissRate, Exact);
        var zero = VerificationMetrics.OperatingPointAtFalseAcceptRate(Targets, NonTargets, 0.0);
        Assert.Equal(0.8, zero.Threshold);
    }

    [Fact]
    public void DetCurve_TiedScores_CountsTiesAsAccepted()
    {
        var det = VerificationMetrics.DetCurve([0.5, 0.5], [0.5]);
        Assert.Equal(2, det.Count);
        Assert.Equal(new DetPoint(0.5, 0, 1), det[0]);
        Assert.Equal(new DetPoint(double.PositiveInfinity, 1, 0), det[1]);
    }

    [Fact]
    public void EqualErrorRate_EmptyOrNaN_Throws()
    {
        var empty = Assert.Throws<ArgumentException>(() => VerificationMetrics.EqualErrorRate([], [0.1]));
        Assert.Contains("at least one score", empty.Message);
        var nan = Assert.Throws<ArgumentException>(() => VerificationMetrics.EqualErrorRate([0.2, double.NaN], [0.1]));
        Assert.Contains("NaN", nan.Message);
    }

    [Fact]
    public void EqualErrorRate_InfiniteScore_ThrowsNamingListAndIndex()
    {
        // Before: targets [+inf] against [0] gave EER 0 at threshold 0 (where every non-target is accepted), and a −inf
        // non-target gave a NaN threshold.
        var target = Assert.Throws<ArgumentException>(() => VerificationMetrics.EqualErrorRate([double.PositiveInfinity], [0.0]));
        Assert.Contains("targetScores[0]", target.Message);
        Assert.Equal("targetScores", target.ParamName);
        var nonTarget = Assert.Throws<ArgumentException>(() => VerificationMetrics.EqualErrorRate([1.0], [0.0, double.NegativeInfinity]));
        Assert.Contains("nonTargetScores[1]", nonTarget.Message);
        Assert.Equal("nonTargetScores", nonTarget.ParamName);
    }

    [Fact]
    public void EveryEntryPoint_InfiniteScore_Throws()
    {
        double[] good = [0.5];
        double[] bad = [0.1, double.PositiveInfinity];
        Assert.Contains("nonTargetScores[1]", Assert.Throws<ArgumentException>(() => VerificationMetrics.DetCurve(good, bad)).Message);
        Assert.Contains("targetScores[1]", Assert.Throws<ArgumentException>(() => VerificationMetrics.MinDcf(bad, good)).Message);
        Assert.Contains("targetScores[1]", Assert.Throws<ArgumentException>(() => VerificationMetrics.OperatingPointAtFalseAcceptRate(bad, good, 0.1)).Message);
    }

    [Theory]
    [InlineData(0.0, 1.0, 1.0, "pTarget", "pTarget must be in (0, 1), found 0.")]
    [InlineData(1.0, 1.0, 1.0, "pTarget", "pTarget must be in (0, 1), found 1.")]
    [InlineData(double.NaN, 1.0, 1.0, "pTarget", "pTarget must be in (0, 1), found NaN.")]
    [InlineData(0.01, 0.0, 1.0, "costMiss", "costMiss must be > 0, found 0.")]
    [InlineData(0.01, double.NaN, 1.0, "costMiss", "costMiss must be > 0, found NaN.")]
    [InlineData(0.01, 1.0, -1.0, "costFalseAccept", "costFalseAccept must be > 0, found -1.")]
    [InlineData(0.01, 1.0, double.NaN, "costFalseAccept", "costFalseAccept must be > 0, found NaN.")]
    public void MinDcf_PriorOrCostOutOfRange_ThrowsNamingParameterAndValue(double pTarget, double costMiss, double costFalseAccept, string parameter, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => VerificationMetrics.MinDcf(Targets, NonTargets, pTarget, costMiss, costFalseAccept));
        Assert.Equal(parameter, ex.ParamName);
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void OperatingPointAtFalseAcceptRate_RateOutsideUnitInterval_ThrowsWithValue(double rate)
    {
        var ex = Assert.Throws<ArgumentException>(() => VerificationMetrics.OperatingPointAtFalseAcceptRate(Targets, NonTargets, rate));
        Assert.Equal("falseAcceptRate", ex.ParamName);
        Assert.Contains($"falseAcceptRate must be in [0, 1], found {rate}.", ex.Message);
    }
}
