using Dls.Audio.IO;
using Dls.Speaker.Data;
using Dls.Speaker.Features;
using Dls.Speaker.Metrics;
using Dls.Speaker.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Evaluation;

/// <summary>Scores of a trial list and the metrics derived from them.</summary>
/// <param name="Speakers">Distinct speakers in the trials.</param>
/// <param name="Utterances">Distinct utterances embedded.</param>
/// <param name="TargetScores">Scores of same-speaker trials.</param>
/// <param name="NonTargetScores">Scores of different-speaker trials.</param>
/// <param name="Eer">Equal error rate and its threshold.</param>
/// <param name="MinDcf">Minimum normalized DCF (p_target 0.01, C_miss = C_fa = 1) and its threshold.</param>
public sealed record SpeakerEvaluationResult(int Speakers, int Utterances, double[] TargetScores, double[] NonTargetScores, EerResult Eer, DcfResult MinDcf)
{
    /// <summary>Total number of trials.</summary>
    public int Trials => TargetScores.Length + NonTargetScores.Length;

    /// <summary>The DET curve.</summary>
    public IReadOnlyList<DetPoint> Det() => VerificationMetrics.DetCurve(TargetScores, NonTargetScores);

    /// <summary>Miss and false-accept rates when deciding at <paramref name="threshold"/> (accept when score ≥ threshold).</summary>
    /// <exception cref="ArgumentException">The threshold is NaN.</exception>
    public (double MissRate, double FalseAcceptRate) RatesAt(double threshold)
    {
        // Every comparison with NaN is false, so a NaN threshold would report (0, 0): no miss and no false accept.
        if (double.IsNaN(threshold)) throw new ArgumentException("Expected a threshold that is a number (±∞ allowed), found NaN.", nameof(threshold));
        return (TargetScores.Count(s => s < threshold) / (double)TargetScores.Length, NonTargetScores.Count(s => s >= threshold) / (double)NonTargetScores.Length);
    }
}

/// <summary>Runs trial lists through a speaker embedder, or through the no-learning mean-spectrum baseline.</summary>
public static class SpeakerEvaluation
{
    /// <summary>Scores trials by the cosine of per-utterance embeddings computed by <paramref name="embedAll"/>.</summary>
    /// <param name="trials">The trials.</param>
    /// <param name="embedAll">Embeds a list of distinct utterances (in order).</param>
    /// <exception cref="ArgumentException">No trials, trials of one class only, or a null trial or utterance (the message
    /// gives the trial's index).</exception>
    /// <exception cref="InvalidOperationException"><paramref name="embedAll"/> returned null, another number of embeddings
    /// than utterances, or a null embedding.</exception>
    public static SpeakerEvaluationResult Score(IReadOnlyList<Trial> trials, Func<IReadOnlyList<SpeakerUtterance>, float[][]> embedAll)
    {
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentNullException.ThrowIfNull(embedAll);
        CheckTrials(trials, "");
        var distinct = trials.SelectMany(t => new[] { t.First, t.Second }).DistinctBy(u => u.Key, StringComparer.Ordinal).ToArray();
        var index = distinct.Select((u, i) => (u.Key, i)).ToDictionary(t => t.Key, t => t.i, StringComparer.Ordinal);
        var embeddings = embedAll(distinct)
            ?? throw new InvalidOperationException($"embedAll returned null for {distinct.Length} utterances; expected one embedding per utterance, in order.");
        if (embeddings.Length != distinct.Length)
            throw new InvalidOperationException($"embedAll returned {embeddings.Length} embeddings for {distinct.Length} utterances; expected one per utterance, in order.");
        for (int i = 0; i < embeddings.Length; i++)
            if (embeddings[i] is null)
                throw new InvalidOperationException($"embedAll returned a null embedding for utterance {i} ('{distinct[i].Key}').");
        var targets = new List<double>();
        var nonTargets = new List<double>();
        foreach (var t in trials)
            (t.IsTarget ? targets : nonTargets).Add(SpeakerEmbeddings.Cosine(embeddings[index[t.First.Key]], embeddings[index[t.Second.Key]]));
        var tg = targets.ToArray();
        var nt = nonTargets.ToArray();
        return new SpeakerEvaluationResult(distinct.Select(u => u.SpeakerId).Distinct().Count(), distinct.Length, tg, nt,
            VerificationMetrics.EqualErrorRate(tg, nt), VerificationMetrics.MinDcf(tg, nt));
    }

    /// <summary>Scores trials with a trained embedder (files loaded at its rate, embedded in batches).</summary>
    /// <exception cref="ArgumentException">Trials of one class only, or an utterance too short, silent or not finite (the
    /// message names its key and file).</exception>
    /// <exception cref="InvalidDataException">A file is malformed.</exception>
    public static SpeakerEvaluationResult Evaluate(SpeakerEmbedder embedder, IReadOnlyList<Trial> trials, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        return Score(trials, utterances => Embed(embedder, utterances, progress));
    }

    /// <summary>
    /// Scores several trial lists with a trained embedder, embedding each distinct utterance once (for example the
    /// seeded list of <see cref="TrialList.Generate"/> and the exhaustive one of <see cref="TrialList.GenerateAll"/>).
    /// </summary>
    /// <returns>One result per list, in order.</returns>
    /// <exception cref="ArgumentException">A null list or trial (the message gives their indices), a list of one class
    /// only, or an utterance too short, silent or not finite (the message names its key and file).</exception>
    /// <exception cref="InvalidDataException">A file is malformed.</exception>
    public static IReadOnlyList<SpeakerEvaluationResult> Evaluate(SpeakerEmbedder embedder, IReadOnlyList<IReadOnlyList<Trial>> trialLists, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(trialLists);
        for (int l = 0; l < trialLists.Count; l++)
        {
            if (trialLists[l] is null) throw new ArgumentNullException(nameof(trialLists), $"Trial list {l} is null.");
            CheckTrials(trialLists[l], $" of list {l}", nameof(trialLists));
        }
        var distinct = trialLists.SelectMany(l => l).SelectMany(t => new[] { t.First, t.Second }).DistinctBy(u => u.Key, StringComparer.Ordinal).ToArray();
        var embeddings = Embed(embedder, distinct, progress);
        var byKey = distinct.Select((u, i) => (u.Key, i)).ToDictionary(t => t.Key, t => embeddings[t.i], StringComparer.Ordinal);
        return trialLists.Select(l => Score(l, utterances => utterances.Select(u => byKey[u.Key]).ToArray())).ToArray();
    }

    /// <summary>
    /// Null trials or utterances (named by index) and a list without both classes, before anything reads a file: a trial
    /// list of one class cannot give an EER, and finding that out after embedding every utterance wastes the whole run.
    /// </summary>
    private static void CheckTrials(IReadOnlyList<Trial> trials, string where, string paramName = "trials")
    {
        int targets = 0;
        for (int i = 0; i < trials.Count; i++)
        {
            var t = trials[i] ?? throw new ArgumentNullException(paramName, $"Trial {i}{where} is null.");
            if (t.First is null || t.Second is null)
                throw new ArgumentNullException(paramName, $"Trial {i}{where} has a null utterance ({(t.First is null ? "First" : "Second")}).");
            if (t.IsTarget) targets++;
        }
        if (targets == 0 || targets == trials.Count)
            throw new ArgumentException($"Expected both same- and different-speaker trials{where}, found {targets} and {trials.Count - targets}.", paramName);
    }

    private static float[][] Embed(SpeakerEmbedder embedder, IReadOnlyList<SpeakerUtterance> utterances, IProgress<int>? progress)
    {
        var result = new float[utterances.Count][];
        const int chunk = 64;
        for (int start = 0; start < utterances.Count; start += chunk)
        {
            var audio = utterances.Skip(start).Take(chunk).Select(u => AudioFile.Load(u.Path, embedder.SampleRate).Samples).ToArray();
            int offset = start;
            // Errors name the file: an index within this chunk would point nowhere.
            var e = embedder.EmbedMany(audio, embedder.SampleRate, i => $"utterance '{utterances[offset + i].Key}' (file '{utterances[offset + i].Path}')");
            Array.Copy(e, 0, result, start, e.Length);
            progress?.Report(Math.Min(start + chunk, utterances.Count));
        }
        return result;
    }

    /// <summary>
    /// Floor of the baseline's logarithm, log(|X| + floor): only a guard against log 0. It sits far below the 16-bit
    /// quantization noise of any recording (about 2e-4 per bin of a 1024-point Hann STFT of audio in [−1, 1]), so the
    /// baseline is the literal cosine of mean log|X|. The floor matters because a cosine of log spectra is not invariant
    /// to adding a constant to them: larger floors (such as the model features' 1e-3) lift the quiet bins and change the
    /// baseline's EER (Dls.Speaker/README.md lists the measured effect).
    /// </summary>
    public const double BaselineLogFloor = 1e-8;

    /// <summary>
    /// The no-learning baseline: each utterance is represented by its mean log-magnitude spectrum
    /// (log(|STFT| + <see cref="BaselineLogFloor"/>), n_fft 1024, hop 512, averaged over frames) and trials are scored by cosine.
    /// </summary>
    /// <param name="trials">The trials.</param>
    /// <param name="features">STFT settings and floor (default: the assignment's STFT with <see cref="BaselineLogFloor"/>); the kind is forced to log-magnitude.</param>
    public static SpeakerEvaluationResult Baseline(IReadOnlyList<Trial> trials, SpeakerFeatureOptions? features = null)
    {
        var options = (features ?? new SpeakerFeatureOptions { LogFloor = BaselineLogFloor }) with { Kind = SpeakerFeatureKind.LogMagnitude };
        using var extractor = new SpeakerFeatureExtractor(options);
        return Score(trials, utterances => utterances.Select(u =>
        {
            using var scope = NewDisposeScope();
            var samples = AudioFile.Load(u.Path, options.SampleRate).Samples;
            return extractor.Forward(samples).mean([0]).data<float>().ToArray();
        }).ToArray());
    }
}
