namespace Dls.Speaker.Metrics;

/// <summary>One operating point of a verification system: accept when score ≥ <see cref="Threshold"/>.</summary>
/// <param name="Threshold">The decision threshold (<see cref="double.PositiveInfinity"/> for "reject everything").</param>
/// <param name="MissRate">Fraction of target trials rejected (P_miss, the false-reject rate).</param>
/// <param name="FalseAcceptRate">Fraction of non-target trials accepted (P_fa).</param>
public readonly record struct DetPoint(double Threshold, double MissRate, double FalseAcceptRate);

/// <summary>The equal error rate and the threshold where it is reached.</summary>
/// <param name="Eer">Equal error rate in [0, 1].</param>
/// <param name="Threshold">Threshold at the EER point (interpolated between the two bracketing operating points).</param>
public readonly record struct EerResult(double Eer, double Threshold);

/// <summary>The minimum of the normalized detection cost function and where it is reached.</summary>
/// <param name="MinDcf">min over thresholds of DCF / min(C_miss·p, C_fa·(1 − p)) (NIST SRE normalization; 1 = no better than a fixed decision).</param>
/// <param name="Threshold">Threshold at the minimum.</param>
public readonly record struct DcfResult(double MinDcf, double Threshold);

/// <summary>
/// Speaker-verification metrics on plain score arrays (higher score = more likely the same speaker; a trial is accepted
/// when its score is ≥ the threshold). Metrics, not losses: no tensors, no gradients.
/// </summary>
public static class VerificationMetrics
{
    /// <summary>
    /// The DET curve: the operating points at every distinct score used as a threshold (in ascending order), followed by
    /// the point at +∞ (everything rejected). P_miss grows and P_fa falls along the list.
    /// </summary>
    /// <exception cref="ArgumentException">Either score set is empty or holds a NaN or ∞ (the message names the set and index).</exception>
    public static IReadOnlyList<DetPoint> DetCurve(ReadOnlySpan<double> targetScores, ReadOnlySpan<double> nonTargetScores)
    {
        Check(targetScores, nameof(targetScores));
        Check(nonTargetScores, nameof(nonTargetScores));
        var all = new (double Score, bool Target)[targetScores.Length + nonTargetScores.Length];
        int k = 0;
        foreach (var s in targetScores) all[k++] = (s, true);
        foreach (var s in nonTargetScores) all[k++] = (s, false);
        Array.Sort(all, (a, b) => a.Score.CompareTo(b.Score));

        double nT = targetScores.Length, nN = nonTargetScores.Length;
        var points = new List<DetPoint>();
        int targetsBelow = 0, nonTargetsBelow = 0;
        int i = 0;
        while (i < all.Length)
        {
            double t = all[i].Score;
            points.Add(new DetPoint(t, targetsBelow / nT, (nN - nonTargetsBelow) / nN));
            // Every score equal to t is accepted at threshold t; move past them before the next threshold.
            while (i < all.Length && all[i].Score == t)
            {
                if (all[i].Target) targetsBelow++; else nonTargetsBelow++;
                i++;
            }
        }
        points.Add(new DetPoint(double.PositiveInfinity, 1.0, 0.0));
        return points;
    }

    /// <summary>
    /// Equal error rate: where P_miss = P_fa on the DET curve, linearly interpolated between the last point with
    /// P_miss &lt; P_fa and the first with P_miss ≥ P_fa (the threshold is interpolated the same way).
    /// </summary>
    /// <exception cref="ArgumentException">Either score set is empty or holds a NaN or ∞ (the message names the set and index).</exception>
    public static EerResult EqualErrorRate(ReadOnlySpan<double> targetScores, ReadOnlySpan<double> nonTargetScores)
    {
        var det = DetCurve(targetScores, nonTargetScores);
        // The first point has P_miss = 0 (lowest score accepted) and the last P_miss = 1, P_fa = 0, so a crossing exists.
        int j = 0;
        while (det[j].MissRate < det[j].FalseAcceptRate) j++;
        if (j == 0) return new EerResult(det[0].MissRate, det[0].Threshold);
        var p0 = det[j - 1];
        var p1 = det[j];
        double d0 = p0.MissRate - p0.FalseAcceptRate;   // < 0
        double d1 = p1.MissRate - p1.FalseAcceptRate;   // ≥ 0
        double alpha = -d0 / (d1 - d0);
        double eer = p0.MissRate + alpha * (p1.MissRate - p0.MissRate);
        double threshold = double.IsPositiveInfinity(p1.Threshold)
            ? p0.Threshold
            : p0.Threshold + alpha * (p1.Threshold - p0.Threshold);
        return new EerResult(eer, threshold);
    }

    /// <summary>
    /// Minimum normalized detection cost: DCF(t) = C_miss·P_miss(t)·p + C_fa·P_fa(t)·(1 − p), divided by
    /// min(C_miss·p, C_fa·(1 − p)), minimized over the DET points. Defaults are the VoxCeleb/NIST setting
    /// p_target = 0.01, C_miss = C_fa = 1.
    /// </summary>
    /// <exception cref="ArgumentException">Empty scores, a NaN or ∞ score, p outside (0, 1), or a non-positive cost.</exception>
    public static DcfResult MinDcf(ReadOnlySpan<double> targetScores, ReadOnlySpan<double> nonTargetScores,
        double pTarget = 0.01, double costMiss = 1.0, double costFalseAccept = 1.0)
    {
        if (!(pTarget > 0 && pTarget < 1)) throw new ArgumentException($"pTarget must be in (0, 1), found {pTarget}.", nameof(pTarget));
        if (!(costMiss > 0)) throw new ArgumentException($"costMiss must be > 0, found {costMiss}.", nameof(costMiss));
        if (!(costFalseAccept > 0)) throw new ArgumentException($"costFalseAccept must be > 0, found {costFalseAccept}.", nameof(costFalseAccept));
        var det = DetCurve(targetScores, nonTargetScores);
        double norm = Math.Min(costMiss * pTarget, costFalseAccept * (1 - pTarget));
        double best = double.PositiveInfinity, bestThreshold = double.NaN;
        foreach (var p in det)
        {
            double dcf = (costMiss * p.MissRate * pTarget + costFalseAccept * p.FalseAcceptRate * (1 - pTarget)) / norm;
            if (dcf < best) { best = dcf; bestThreshold = p.Threshold; }
        }
        return new DcfResult(best, bestThreshold);
    }

    /// <summary>
    /// The lowest threshold whose false-accept rate on the non-target scores is ≤ <paramref name="falseAcceptRate"/>
    /// (the operating point with the fewest misses under that constraint).
    /// </summary>
    /// <remarks>
    /// When the rate can only be met by rejecting everything — no target score lies above the highest non-target score,
    /// and the rate is below the share of non-targets at that highest score (1 / their number when it is not tied) — the
    /// point returned is the last DET point: threshold <see cref="double.PositiveInfinity"/> with P_miss = 1. That is not
    /// a usable decision threshold: a cosine threshold must lie in [−1, 1], and
    /// <see cref="Verification.SpeakerVerifierOptions.Threshold"/> and <see cref="Verification.SpeakerModelFile.Save"/>
    /// refuse it. The development set then cannot resolve the rate: score more non-target trials (well over 1 / rate of
    /// them), ask for a higher rate, or fall back to the <see cref="EqualErrorRate"/> threshold.
    /// </remarks>
    /// <exception cref="ArgumentException">Empty scores, a NaN or ∞ score, or a rate outside [0, 1].</exception>
    public static DetPoint OperatingPointAtFalseAcceptRate(ReadOnlySpan<double> targetScores, ReadOnlySpan<double> nonTargetScores, double falseAcceptRate)
    {
        if (!(falseAcceptRate >= 0 && falseAcceptRate <= 1))
            throw new ArgumentException($"falseAcceptRate must be in [0, 1], found {falseAcceptRate}.", nameof(falseAcceptRate));
        foreach (var p in DetCurve(targetScores, nonTargetScores))
            if (p.FalseAcceptRate <= falseAcceptRate) return p;
        throw new InvalidOperationException("Unreachable: the last DET point has P_fa = 0.");
    }

    /// <summary>
    /// Scores must be finite: every score becomes a DET threshold, and with an infinite one the EER threshold is
    /// interpolated to NaN (∞ − ∞) or stops at a threshold whose rates belong to its infinite neighbour (targets [+∞]
    /// against non-targets [0] gave EER 0 at threshold 0, where every non-target is accepted).
    /// </summary>
    private static void Check(ReadOnlySpan<double> scores, string name)
    {
        if (scores.Length == 0) throw new ArgumentException($"Expected at least one score in {name}, found none.", name);
        for (int i = 0; i < scores.Length; i++)
            if (!double.IsFinite(scores[i])) throw new ArgumentException($"{name}[{i}] is {scores[i]}; expected finite scores.", name);
    }
}
