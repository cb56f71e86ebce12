using Dls.Audio.IO;
using Dls.Speaker.Data;
using Dls.Speaker.Features;
using Dls.Speaker.Tests.Data;
using Dls.Speaker.Evaluation;
using Dls.Speaker.Verification;

namespace Dls.Speaker.Tests.Evaluation;

[Collection("TorchGlobalState")]
public sealed class SpeakerEvaluationTests
{
    [Fact]
    public void Score_EmbedsEachUtteranceOnceAndScoresByCosine()
    {
        var a1 = new SpeakerUtterance("a", "/a/1.wav", "a/1.wav");
        var a2 = new SpeakerUtterance("a", "/a/2.wav", "a/2.wav");
        var b1 = new SpeakerUtterance("b", "/b/1.wav", "b/1.wav");
        // a/1 = (1,0), a/2 = (0.8,0.6) → target cos 0.8; b/1 = (0,1) → non-target cos 0 and 0.6.
        var vectors = new Dictionary<string, float[]> { ["a/1.wav"] = [1, 0], ["a/2.wav"] = [0.8f, 0.6f], ["b/1.wav"] = [0, 1] };
        int calls = 0;
        var result = SpeakerEvaluation.Score([new Trial(true, a1, a2), new Trial(false, a1, b1), new Trial(false, a2, b1)], utts =>
        {
            calls++;
            return utts.Select(u => vectors[u.Key]).ToArray();
        });
        Assert.Equal(1, calls);
        Assert.Equal(3, result.Utterances);
        Assert.Equal(2, result.Speakers);
        Assert.Equal(0.8, result.TargetScores.Single(), 1e-6);
        Assert.Equal([0.0, 0.6], result.NonTargetScores.Select(s => Math.Round(s, 6)));
        Assert.Equal(0.0, result.Eer.Eer);
        Assert.Equal((0.0, 0.5), result.RatesAt(0.5));
    }

    [Fact]
    public void Score_OneClassOnly_Throws()
    {
        var u = new SpeakerUtterance("a", "/a/1.wav", "a/1.wav");
        var ex = Assert.Throws<ArgumentException>(() => SpeakerEvaluation.Score([new Trial(true, u, u)], _ => []));
        Assert.Contains("both same- and different-speaker", ex.Message);
    }

    [Fact]
    public void DefaultSpeakerModel_Shipped_LoadsWithThresholdAndFeatures()
    {
        Assert.True(DefaultSpeakerModel.IsAvailable, "Dls.Speaker was built without Models/speaker-gru.ckpt");
        var model = DefaultSpeakerModel.Load();
        using var encoder = model.Encoder;
        Assert.Equal(513, model.Features.FeatureSize);
        Assert.InRange(model.Threshold, -1.0, 1.0);
        Assert.Equal(256, encoder.Options.EmbeddingSize);
    }

    [Fact]
    public void Evaluate_SeveralLists_EachAsEvaluatedAlone()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 3, utterances: 3, seconds: 0.6);
        var dataset = SpeakerDataset.Open(tree.Root);
        var seeded = TrialList.Generate(dataset, seed: 1);
        var all = TrialList.GenerateAll(dataset);
        using var embedder = new SpeakerEmbedder(TestModels.Random());

        var both = SpeakerEvaluation.Evaluate(embedder, [seeded, all]);

        // One embedding per utterance serves both lists: the same scores as evaluating each list alone (the embedder is
        // deterministic in eval mode; batches of different composition may round differently, so 1e-5 on cosines).
        var alone = new[] { SpeakerEvaluation.Evaluate(embedder, seeded), SpeakerEvaluation.Evaluate(embedder, all) };
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(alone[k].Trials, both[k].Trials);
            Assert.All(alone[k].TargetScores.Zip(both[k].TargetScores), p => Assert.Equal(p.First, p.Second, 1e-5));
            Assert.All(alone[k].NonTargetScores.Zip(both[k].NonTargetScores), p => Assert.Equal(p.First, p.Second, 1e-5));
        }
        Assert.Equal(36, both[1].Trials);
    }

    [Fact]
    public void Baseline_DefaultFloor_ScoresCosineOfMeanLogMagnitude()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 3, utterances: 2, seconds: 0.5);
        var trials = TrialList.Generate(SpeakerDataset.Open(tree.Root), seed: 1);
        var result = SpeakerEvaluation.Baseline(trials);

        // The definition written out: mean over frames of log(|STFT| + 1e-8) in double precision, then cosine.
        using var extractor = new SpeakerFeatureExtractor(new SpeakerFeatureOptions { Kind = SpeakerFeatureKind.Magnitude });
        double[] MeanLog(SpeakerUtterance u)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var m = extractor.Forward(AudioFile.Load(u.Path, 16000).Samples);
            int frames = (int)m.shape[0], bins = (int)m.shape[1];
            var flat = m.data<float>().ToArray();
            var mean = new double[bins];
            for (int t = 0; t < frames; t++)
                for (int k = 0; k < bins; k++) mean[k] += Math.Log(flat[t * bins + k] + SpeakerEvaluation.BaselineLogFloor) / frames;
            return mean;
        }
        static double Cosine(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum() / Math.Sqrt(a.Sum(x => x * x) * b.Sum(y => y * y));
        var expected = trials.Where(t => t.IsTarget).Select(t => Cosine(MeanLog(t.First), MeanLog(t.Second))).ToArray();
        // float32 features averaged in float32 by the library: agreement to ~1e-6 on cosines near 1.
        Assert.Equal(expected.Length, result.TargetScores.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], result.TargetScores[i], 1e-5);

        // The floor is part of the definition: a cosine of log spectra moves when a constant lifts the quiet bins.
        var lifted = SpeakerEvaluation.Baseline(trials, new SpeakerFeatureOptions { LogFloor = 0.1 });
        Assert.NotEqual(result.TargetScores[0], lifted.TargetScores[0], 1e-4);
    }

    [Fact]
    public void Evaluate_TooShortOrSilentFile_NamesTheFileAndSampleCounts()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 3, utterances: 2, seconds: 0.6);
        string shortPath = Path.Combine(tree.Root, "speakers", "spk1", "spk1_001.wav");
        AudioFile.Save(shortPath, new Dls.Audio.AudioSignal(TestAudio.Voice(150, 1, 0.1, seed: 1), TestAudio.Rate));
        var trials = TrialList.Generate(SpeakerDataset.Open(tree.Root), seed: 1);
        using var embedder = new SpeakerEmbedder(TestModels.Random());

        var tooShort = Assert.Throws<ArgumentException>(() => SpeakerEvaluation.Evaluate(embedder, trials));
        Assert.Contains($"utterance 'spk1/spk1_001.wav' (file '{shortPath}') is too short", tooShort.Message);
        Assert.Contains("expected at least 8000 samples (0.5 s at 16000 Hz), found 1600", tooShort.Message);

        AudioFile.Save(shortPath, new Dls.Audio.AudioSignal(new float[16000], TestAudio.Rate));
        var silent = Assert.Throws<ArgumentException>(() => SpeakerEvaluation.Evaluate(embedder, [trials]));
        Assert.Contains($"utterance 'spk1/spk1_001.wav' (file '{shortPath}') is silent", silent.Message);
    }

    [Fact]
    public void Score_EmbedAllReturnsWrongCountOrNull_InvalidOperationWithCounts()
    {
        var a1 = new SpeakerUtterance("a", "/a/1.wav", "a/1.wav");
        var a2 = new SpeakerUtterance("a", "/a/2.wav", "a/2.wav");
        var b1 = new SpeakerUtterance("b", "/b/1.wav", "b/1.wav");
        Trial[] trials = [new Trial(true, a1, a2), new Trial(false, a1, b1)];

        var fewer = Assert.Throws<InvalidOperationException>(() => SpeakerEvaluation.Score(trials, _ => [[1f, 0f], [0f, 1f]]));
        var none = Assert.Throws<InvalidOperationException>(() => SpeakerEvaluation.Score(trials, _ => null!));
        var hole = Assert.Throws<InvalidOperationException>(() => SpeakerEvaluation.Score(trials, _ => [[1f, 0f], null!, [0f, 1f]]));

        Assert.Contains("embedAll returned 2 embeddings for 3 utterances", fewer.Message);
        Assert.Contains("embedAll returned null for 3 utterances", none.Message);
        Assert.Contains("embedAll returned a null embedding for utterance 1 ('a/2.wav')", hole.Message);
    }

    [Fact]
    public void Score_NullTrial_ThrowsNamingIndex()
    {
        var a1 = new SpeakerUtterance("a", "/a/1.wav", "a/1.wav");
        var b1 = new SpeakerUtterance("b", "/b/1.wav", "b/1.wav");
        var ex = Assert.Throws<ArgumentNullException>(() =>
            SpeakerEvaluation.Score([new Trial(true, a1, a1), null!, new Trial(false, a1, b1)], u => u.Select(_ => new[] { 1f, 0f }).ToArray()));
        Assert.Contains("Trial 1 is null", ex.Message);
        var hole = Assert.Throws<ArgumentNullException>(() =>
            SpeakerEvaluation.Score([new Trial(true, a1, a1), new Trial(false, a1, null!)], u => u.Select(_ => new[] { 1f, 0f }).ToArray()));
        Assert.Contains("Trial 1 has a null utterance", hole.Message);
    }

    [Fact]
    public void Evaluate_NullTrialInSecondList_ThrowsNamingListAndIndex()
    {
        var a1 = new SpeakerUtterance("a", "/a/1.wav", "a/1.wav");
        var b1 = new SpeakerUtterance("b", "/b/1.wav", "b/1.wav");
        using var embedder = new SpeakerEmbedder(TestModels.Random());
        var ex = Assert.Throws<ArgumentNullException>(() => SpeakerEvaluation.Evaluate(embedder, [[new Trial(true, a1, a1), new Trial(false, a1, b1)], [null!]]));
        Assert.Contains("Trial 0 of list 1 is null", ex.Message);
        Assert.Equal("trialLists", ex.ParamName);
    }

    [Fact]
    public void RatesAt_NaNThreshold_Throws()
    {
        var result = new SpeakerEvaluationResult(2, 3, [0.8], [0.1], new(0, 0.5), new(0, 0.5));
        // Before: (0, 0) — every comparison with NaN is false, so nothing counted as missed or falsely accepted.
        var ex = Assert.Throws<ArgumentException>(() => result.RatesAt(double.NaN));
        Assert.Equal("threshold", ex.ParamName);
        Assert.Equal((1.0, 0.0), result.RatesAt(double.PositiveInfinity));
    }

    [Fact]
    public void Evaluate_ListOfOneClass_ThrowsBeforeReadingAnyFile()
    {
        // The files do not exist: a FileNotFoundException would mean the utterances were read (embedded) before the list
        // was found unusable.
        var a1 = new SpeakerUtterance("a", "/no/such/a1.wav", "a/1.wav");
        var a2 = new SpeakerUtterance("a", "/no/such/a2.wav", "a/2.wav");
        using var embedder = new SpeakerEmbedder(TestModels.Random());

        var ex = Assert.Throws<ArgumentException>(() => SpeakerEvaluation.Evaluate(embedder, [[new Trial(true, a1, a2)]]));

        Assert.StartsWith("Expected both same- and different-speaker trials of list 0, found 1 and 0.", ex.Message);
    }

    [Fact]
    public void Evaluate_NullTrialList_ThrowsNamingItsIndexBeforeReadingAnyFile()
    {
        // The files do not exist: the null list is found before anything is embedded.
        var a1 = new SpeakerUtterance("a", "/no/such/a1.wav", "a/1.wav");
        var b1 = new SpeakerUtterance("b", "/no/such/b1.wav", "b/1.wav");
        using var embedder = new SpeakerEmbedder(TestModels.Random());

        var ex = Assert.Throws<ArgumentNullException>(() => SpeakerEvaluation.Evaluate(embedder, [[new Trial(true, a1, a1), new Trial(false, a1, b1)], null!]));

        Assert.Equal("trialLists", ex.ParamName);
        Assert.Contains("Trial list 1 is null.", ex.Message);
    }
}
