using System.CommandLine;
using System.Text.Json.Nodes;
using Dls.Samples.Abstractions;
using Dls.Speaker.Data;
using Dls.Speaker.Evaluation;
using Dls.Speaker.Metrics;
using Dls.Speaker.Verification;
using Microsoft.Extensions.DependencyInjection;

namespace Dls.Samples.Speaker;

/// <summary>The <c>verify</c> and <c>speaker-eval</c> commands.</summary>
internal static class SpeakerCommands
{
    public static Command Verify(ISampleHost host)
    {
        var enroll = PathArguments.OneOrMoreOption("--enroll", "Enrollment WAV files of the claimed speaker (one or more).");
        var test = new Option<string>("--test") { Description = "The test WAV file.", Required = true };
        var model = new Option<string?>("--model") { Description = "A speaker model (.ckpt with its .json sidecar); default: the shipped model." };
        var threshold = new Option<double?>("--threshold") { Description = "Decision threshold on the cosine score, in [-1, 1]; default: the model's calibrated threshold." }
            .Within(-1, 1, "a cosine");
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last stdout line." };
        var command = new Command("verify", "Enrolls a speaker from WAV files and decides whether a test WAV is the same speaker.") { enroll, test, model, threshold, json };
        command.SetAction(parse =>
        {
            var files = parse.GetValue(enroll)!;
            foreach (var f in files.Append(parse.GetValue(test)!)) PathArguments.RequireFile(f, "WAV file");
            string? modelPath = parse.GetValue(model);
            if (modelPath is not null) PathArguments.RequireFile(modelPath, "speaker model file");
            double? t = parse.GetValue(threshold);
            using var owned = modelPath is null ? null : SpeakerVerifier.Load(modelPath, t);
            ISpeakerVerifier verifier = owned ?? host.Services.GetRequiredService<ISpeakerVerifier>();
            var enrollment = verifier.EnrollFiles(files);
            var result = verifier.VerifyFile(enrollment, parse.GetValue(test)!);
            if (t is { } custom && owned is null) result = result with { Threshold = custom, IsSameSpeaker = result.Score >= custom };
            host.Out.WriteLine($"score      {result.Score:F4} (cosine, enrolled from {enrollment.UtteranceCount} file(s))");
            host.Out.WriteLine($"threshold  {result.Threshold:F4}");
            host.Out.WriteLine($"decision   {(result.IsSameSpeaker ? "same speaker (accept)" : "different speaker (reject)")}");
            if (parse.GetValue(json))
                host.WriteJsonResult(new JsonObject { ["score"] = Math.Round(result.Score, 6), ["threshold"] = Math.Round(result.Threshold, 6), ["same_speaker"] = result.IsSameSpeaker, ["enrollment_files"] = files.Length });
        });
        return command;
    }

    /// <summary>
    /// The lowest threshold whose false-accept rate on <paramref name="result"/>'s different-speaker trials is at most
    /// <paramref name="falseAcceptRate"/>, and the line that reports it; null (and a line saying why and what to do) when
    /// only rejecting everything meets the rate on these trials, which gives no usable cosine threshold.
    /// </summary>
    internal static (DetPoint? Point, string Line) CalibrateAtFalseAcceptRate(SpeakerEvaluationResult result, double falseAcceptRate)
    {
        var point = VerificationMetrics.OperatingPointAtFalseAcceptRate(result.TargetScores, result.NonTargetScores, falseAcceptRate);
        if (double.IsPositiveInfinity(point.Threshold))
        {
            string more = falseAcceptRate > 0 ? $"score more of them (well over {Math.Ceiling(1 / falseAcceptRate):N0}) or " : "";
            return (null, $"at FAR {falseAcceptRate:P2}  no threshold: only rejecting everything meets it on these {result.NonTargetScores.Length} different-speaker trials; {more}ask for a higher rate");
        }

        return (point, $"at FAR {falseAcceptRate:P2}  threshold {point.Threshold:F4}: miss {point.MissRate:P2}, false accept {point.FalseAcceptRate:P2} (pass it as verify --threshold)");
    }

    public static Command Evaluate(ISampleHost host)
    {
        var data = new Option<string>("--data") { Description = "Speakers as <speaker>/<utterance>.wav folders (a speakers.csv split selects --split), or a VoxCeleb folder with wav/.", Required = true };
        var model = new Option<string?>("--model") { Description = "A speaker model (.ckpt with its .json sidecar); default: the shipped model." };
        var split = new Option<string>("--split") { Description = "Which split of speakers.csv to evaluate: test (default), train or all.", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("test", "train", "all");
        var trialsFile = new Option<string?>("--trials") { Description = "A VoxCeleb trial list ('label path1 path2', paths relative to DIR/wav, or to DIR when it has no wav/); default: generated trials." };
        var seed = new Option<int>("--seed") { Description = "Seed of the different-speaker trials (default 42, as run/reproduce).", DefaultValueFactory = _ => 42 }
            .Within(0, int.MaxValue);
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON object on the last stdout line." };
        var outDir = new Option<string>("--out") { Description = "Folder for the DET plot (det.png) and the score distributions (scores.png).", DefaultValueFactory = _ => Path.Combine("results", "speaker-eval") }.AsOutputFolder();
        var far = new Option<double?>("--far") { Description = "Also calibrate the threshold for this false-accept rate (e.g. 0.01): the lowest threshold whose share of accepted different-speaker trials is at most it, to pass to verify --threshold." }
            .Within(0, 1);
        var command = new Command("speaker-eval", "EER, minDCF and the EER threshold of a speaker model on trials from a data folder, beside the no-learning baseline; with --far, the threshold for a false-accept rate.") { data, model, split, trialsFile, seed, json, outDir, far };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(data)!;
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--data: expected an existing folder, found nothing at '{dir}'.");
            string? modelPath = parse.GetValue(model);
            if (modelPath is not null) PathArguments.RequireFile(modelPath, "speaker model file");
            IReadOnlyList<Trial> trials;
            IReadOnlyList<Trial>? allPairs = null;
            string description;
            if (parse.GetValue(trialsFile) is { } listPath)
            {
                PathArguments.RequireFile(listPath, "trial list file");
                string wavRoot = Directory.Exists(Path.Combine(dir, "wav")) ? Path.Combine(dir, "wav") : dir;
                trials = TrialList.Read(listPath, wavRoot);
                description = $"trial list {listPath}";
            }
            else
            {
                string which = parse.GetValue(split)!;
                var (dataset, what) = SpeakerData.Select(dir, which);
                trials = TrialList.Generate(dataset, parse.GetValue(seed));
                allPairs = TrialList.GenerateAll(dataset);
                description = what;
            }

            using var owned = modelPath is null ? null : SpeakerVerifier.Load(modelPath);
            var verifier = owned ?? host.Services.GetRequiredService<SpeakerVerifier>();
            IReadOnlyList<IReadOnlyList<Trial>> lists = allPairs is null ? [trials] : [trials, allPairs];
            IReadOnlyList<SpeakerEvaluationResult> results;
            using (var progress = host.Progress.Start("speaker-eval embedding", lists.SelectMany(l => l).SelectMany(t => new[] { t.First.Key, t.Second.Key }).Distinct().Count()))
                results = SpeakerEvaluation.Evaluate(verifier.Embedder, lists, new Progress<int>(n => progress.Report(n)));
            var result = results[0];
            var exhaustive = allPairs is null ? null : results[1];
            var baseline = SpeakerEvaluation.Baseline(trials);
            var exhaustiveBaseline = allPairs is null ? null : SpeakerEvaluation.Baseline(allPairs);
            var (miss, falseAccept) = result.RatesAt(verifier.Threshold);

            host.Out.WriteLine($"data       {description}");
            host.Out.WriteLine($"model      {modelPath ?? "shipped default"}");
            host.Out.WriteLine($"trials     {result.Trials} ({result.TargetScores.Length} same-speaker) over {result.Speakers} speakers");
            host.Out.WriteLine($"EER        {result.Eer.Eer:P2} at threshold {result.Eer.Threshold:F4}");
            host.Out.WriteLine($"minDCF     {result.MinDcf.MinDcf:F4} (p_target 0.01, C_miss = C_fa = 1)");
            host.Out.WriteLine($"baseline   {baseline.Eer.Eer:P2} EER (cosine of mean log-magnitude spectra, no learning)");
            host.Out.WriteLine($"at model threshold {verifier.Threshold:F4}: miss {miss:P2}, false accept {falseAccept:P2}");
            if (exhaustive is not null)
                host.Out.WriteLine($"all pairs  {exhaustive.Trials} trials ({exhaustive.NonTargetScores.Length} different-speaker, no sampling): EER {exhaustive.Eer.Eer:P2}, minDCF {exhaustive.MinDcf.MinDcf:F4}, baseline {exhaustiveBaseline!.Eer.Eer:P2}");

            DetPoint? atFar = null;
            if (parse.GetValue(far) is { } farTarget)
            {
                (atFar, string line) = CalibrateAtFalseAcceptRate(result, farTarget);
                host.Out.WriteLine(line);
            }

            string plotDir = parse.GetValue(outDir)!;
            Directory.CreateDirectory(plotDir);
            string detPath = Path.Combine(plotDir, "det.png");
            var systems = new List<(string, SpeakerEvaluationResult)> { ("model", result), ("mean log-spectrum baseline", baseline) };
            if (exhaustive is not null) systems.Add(("model, all pairs", exhaustive));
            DetPlot.Save(detPath, $"DET curve, {result.Speakers} speakers, {result.Trials} trials", systems);
            host.Out.WriteLine($"DET plot   {detPath}");
            string scoresPath = Path.Combine(plotDir, "scores.png");
            ScorePlot.Save(scoresPath, $"Score distributions, {result.Speakers} speakers, {result.Trials} trials", result, verifier.Threshold, "model threshold");
            host.Out.WriteLine($"scores     {scoresPath}");
            if (parse.GetValue(json))
            {
                host.WriteJsonResult(new JsonObject
                {
                    ["speakers"] = result.Speakers,
                    ["trials"] = result.Trials,
                    ["eer"] = Math.Round(result.Eer.Eer, 6),
                    ["min_dcf"] = Math.Round(result.MinDcf.MinDcf, 6),
                    ["threshold_eer"] = Math.Round(result.Eer.Threshold, 6),
                    ["baseline_eer"] = Math.Round(baseline.Eer.Eer, 6),
                    ["model_threshold"] = Math.Round(verifier.Threshold, 6),
                    ["miss_rate_at_model_threshold"] = Math.Round(miss, 6),
                    ["false_accept_rate_at_model_threshold"] = Math.Round(falseAccept, 6),
                    ["trials_all_pairs"] = exhaustive?.Trials,
                    ["eer_all_pairs"] = exhaustive is null ? null : Math.Round(exhaustive.Eer.Eer, 6),
                    ["min_dcf_all_pairs"] = exhaustive is null ? null : Math.Round(exhaustive.MinDcf.MinDcf, 6),
                    ["baseline_eer_all_pairs"] = exhaustiveBaseline is null ? null : Math.Round(exhaustiveBaseline.Eer.Eer, 6),
                    ["det_png"] = detPath,
                    ["scores_png"] = scoresPath,
                    ["far_target"] = parse.GetValue(far),
                    ["threshold_far"] = atFar is { } p ? Math.Round(p.Threshold, 6) : null,
                    ["miss_rate_at_far"] = atFar is { } q ? Math.Round(q.MissRate, 6) : null,
                    ["false_accept_rate_at_far"] = atFar is { } r ? Math.Round(r.FalseAcceptRate, 6) : null,
                });
            }
        });
        return command;
    }
}
