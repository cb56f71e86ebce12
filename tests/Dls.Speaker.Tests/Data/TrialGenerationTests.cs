using Dls.Speaker.Data;

namespace Dls.Speaker.Tests.Data;

public sealed class TrialGenerationTests
{
    private static SpeakerDataset Synthetic(int speakers, int perSpeaker) =>
        new("/nowhere", Enumerable.Range(0, speakers).SelectMany(s => Enumerable.Range(0, perSpeaker)
            .Select(u => new SpeakerUtterance($"s{s}", $"/nowhere/s{s}/{u}.wav", $"s{s}/{u}.wav"))));

    [Fact]
    public void Generate_AllSamePairsPlusEqualDifferentPairs()
    {
        var ds = Synthetic(4, 5);
        var trials = TrialList.Generate(ds, seed: 7);
        // 4 speakers × C(5,2) = 40 target trials, and 40 non-target trials.
        Assert.Equal(40, trials.Count(t => t.IsTarget));
        Assert.Equal(40, trials.Count(t => !t.IsTarget));
        Assert.All(trials, t => Assert.Equal(t.IsTarget, t.First.SpeakerId == t.Second.SpeakerId));
        var distinct = trials.Where(t => !t.IsTarget).Select(t => string.CompareOrdinal(t.First.Key, t.Second.Key) < 0 ? (t.First.Key, t.Second.Key) : (t.Second.Key, t.First.Key)).Distinct().Count();
        Assert.Equal(40, distinct);
    }

    [Fact]
    public void Generate_SameSeed_SameTrials_DifferentSeed_Different()
    {
        var ds = Synthetic(3, 4);
        var a = TrialList.Format(TrialList.Generate(ds, 1));
        Assert.Equal(a, TrialList.Format(TrialList.Generate(ds, 1)));
        Assert.NotEqual(a, TrialList.Format(TrialList.Generate(ds, 2)));
    }

    [Fact]
    public void GenerateAll_EveryUnorderedPairOnceLabelledBySpeaker()
    {
        var ds = Synthetic(4, 5);
        var trials = TrialList.GenerateAll(ds);
        // 20 utterances: C(20, 2) = 190 pairs, of which 4 × C(5, 2) = 40 same-speaker and 190 − 40 = 150 different.
        Assert.Equal(190, trials.Count);
        Assert.Equal(40, trials.Count(t => t.IsTarget));
        Assert.All(trials, t => Assert.Equal(t.IsTarget, t.First.SpeakerId == t.Second.SpeakerId));
        Assert.Equal(190, trials.Select(t => (t.First.Key, t.Second.Key)).Distinct().Count());
        // The seeded list's target trials are exactly the exhaustive list's.
        Assert.Equal(TrialList.Generate(ds, 3).Where(t => t.IsTarget).Select(t => (t.First.Key, t.Second.Key)).Order(),
            trials.Where(t => t.IsTarget).Select(t => (t.First.Key, t.Second.Key)).Order());
    }

    [Fact]
    public void GenerateAll_OneSpeaker_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => TrialList.GenerateAll(Synthetic(1, 3)));
        Assert.Contains("at least 2 speakers", ex.Message);
    }

    [Fact]
    public void Generate_OneSpeaker_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => TrialList.Generate(Synthetic(1, 3), 0));
        Assert.Contains("at least 2 speakers", ex.Message);
    }

    [Fact]
    public void PairSamplerSample_IsBalancedSeededAndLabelledCorrectly()
    {
        var ds = Synthetic(3, 4);
        var pairs = PairSampler.Sample(ds, 101, new Random(5));
        Assert.Equal(51, pairs.Count(p => p.IsTarget));
        Assert.Equal(50, pairs.Count(p => !p.IsTarget));
        Assert.All(pairs, p =>
        {
            Assert.NotEqual(p.First, p.Second);
            Assert.Equal(p.IsTarget, ds.Utterances[p.First].SpeakerId == ds.Utterances[p.Second].SpeakerId);
        });
        Assert.Equal(pairs, PairSampler.Sample(ds, 101, new Random(5)));
    }

    [Fact]
    public void GenerateAndGenerateAll_EverySpeakerHasOneUtterance_ThrowNoTargetTrials()
    {
        // Three speakers of one utterance: different-speaker pairs exist, same-speaker ones cannot.
        var ds = Synthetic(3, 1);
        const string Expected = "Trials need a speaker with at least 2 utterances; every speaker of the dataset has one.";
        var all = Assert.Throws<ArgumentException>(() => TrialList.GenerateAll(ds));
        Assert.Contains(Expected, all.Message);
        Assert.Equal("dataset", all.ParamName);
        var seeded = Assert.Throws<ArgumentException>(() => TrialList.Generate(ds, seed: 1));
        Assert.Contains(Expected, seeded.Message);
        Assert.Equal("dataset", seeded.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void PairSamplerSample_CountBelowOne_ThrowsWithCount(int count)
    {
        var ex = Assert.Throws<ArgumentException>(() => PairSampler.Sample(Synthetic(2, 2), count, new Random(1)));
        Assert.Equal("count", ex.ParamName);
        Assert.Contains($"Pair count must be at least 1, found {count}.", ex.Message);
    }

    [Fact]
    public void PairSamplerSample_OneSpeaker_ThrowsWithSpeakerCount()
    {
        var ex = Assert.Throws<ArgumentException>(() => PairSampler.Sample(Synthetic(1, 4), 10, new Random(1)));
        Assert.Equal("dataset", ex.ParamName);
        Assert.Contains("Pairs need at least 2 speakers; the dataset has 1.", ex.Message);
    }

    [Fact]
    public void PairSamplerSample_NoSpeakerWithTwoUtterances_ThrowsNoSameSpeakerPairs()
    {
        var ex = Assert.Throws<ArgumentException>(() => PairSampler.Sample(Synthetic(4, 1), 10, new Random(1)));
        Assert.Equal("dataset", ex.ParamName);
        Assert.Contains("Same-speaker pairs need a speaker with at least 2 utterances; every speaker has one.", ex.Message);
    }
}
