using Dls.Speaker.Data;
using Dls.Speaker.Evaluation;
using Dls.Speaker.Verification;

namespace Dls.Speaker.Tests.Evaluation;

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
}
