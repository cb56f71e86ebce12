using Dls.Models.Denoising;

namespace Dls.Models.Tests.Denoising;

public sealed class OnTheFlyMixerTests
{
    private static OnTheFlyMixer Mixer() => new(
        [DenoisingFixtures.Tone(16000, 1), DenoisingFixtures.Tone(20000, 2)],
        [DenoisingFixtures.Noise(5000, 3), DenoisingFixtures.Noise(7000, 4)],
        minSnrDb: -5,
        maxSnrDb: 10) { AugmentNoise = true };

    [Fact]
    public void Mix_SameSeed_SameExample()
    {
        DenoisingExample a = Mixer().Mix(new Random(5)), b = Mixer().Mix(new Random(5));

        Assert.Equal(a.Noisy, b.Noisy);
        Assert.Equal(a.Clean, b.Clean);
    }

    [Fact]
    public void Mix_ManyDraws_SnrInRangeAndMixtureIsSum()
    {
        OnTheFlyMixer mixer = Mixer();
        var rng = new Random(9);
        for (int i = 0; i < 20; i++)
        {
            DenoisingExample e = mixer.Mix(rng, maxSamples: 8000);
            double snr = 10 * Math.Log10(e.Clean.Sum(x => (double)x * x) / e.Noise!.Sum(x => (double)x * x));
            // The SNR is drawn from [-5, 10] dB; float rounding of the scaled signals moves it by far less than 0.01 dB.
            Assert.InRange(snr, -5.01, 10.01);
            Assert.Equal(8000, e.Noisy.Length);
            Assert.True(DenoisingFixtures.MaxAbsDifference(e.Noisy, DenoisingFixtures.Add(e.Clean, e.Noise!)) < 1e-6f);
            Assert.InRange(e.Noisy.Max(Math.Abs), 0f, 0.951f);
        }
    }

    [Fact]
    public void Constructor_SilentNoise_ThrowsWithCounts()
    {
        var e = Assert.Throws<ArgumentException>(() => new OnTheFlyMixer([DenoisingFixtures.Tone(100)], [new float[10]]));

        Assert.Contains("1 empty or silent", e.Message);
    }

    [Fact]
    public void Constructor_InvertedSnrRange_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new OnTheFlyMixer([DenoisingFixtures.Tone(100)], [DenoisingFixtures.Noise(100)], 10, 5));

        Assert.Contains("[10, 5]", e.Message);
    }

    [Fact]
    public void Mix_AllSyntheticMusicAndSpeechSpeed_SumHoldsAndDeterministic()
    {
        OnTheFlyMixer mixer = Mixer().WithAugmentation(augmentNoise: true, babbleProbability: 0, musicProbability: 1, sampleRate: 16000, augmentSpeech: true);

        DenoisingExample a = mixer.Mix(new Random(11)), b = mixer.Mix(new Random(11));

        Assert.Equal(a.Noisy, b.Noisy);
        Assert.True(DenoisingFixtures.MaxAbsDifference(a.Noisy, DenoisingFixtures.Add(a.Clean, a.Noise!)) < 1e-6f);
        // Utterances of 16,000 and 20,000 samples read at a speed in [0.87, 1.15]: never the original lengths exactly.
        Assert.InRange(a.Clean.Length, 13_900, 23_000);
        Assert.DoesNotContain(a.Clean.Length, new[] { 16000, 20000 });
        Assert.Contains(a.Noise!, x => x != 0);
    }

    [Fact]
    public void SyntheticMusic_ManySeeds_FiniteNotSilentAndRequestedLength()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            float[] music = SyntheticMusic.Make(new Random(seed), 12000, 16000);

            // Whatever the draw (voices, rests, percussion), the mixer needs a finite, non-silent noise of that length.
            Assert.Equal(12000, music.Length);
            Assert.All(music, x => Assert.True(float.IsFinite(x)));
            Assert.True(music.Sum(x => (double)x * x) > 0, $"seed {seed} is silent");
        }
    }

    [Fact]
    public void WithMore_AddsPoolsKeepsSettings()
    {
        OnTheFlyMixer mixer = Mixer().WithMore([DenoisingFixtures.Tone(9000, 3)], [DenoisingFixtures.Noise(3000, 5)]);

        Assert.Equal(3, mixer.CleanCount);
        Assert.Equal(3, mixer.NoiseCount);
        Assert.True(mixer.AugmentNoise);
    }

    [Theory]
    [InlineData(0.0, 1.5, "MusicProbability", "found 1.5")]
    [InlineData(0.0, double.NaN, "MusicProbability", "found NaN")]
    [InlineData(-0.1, 0.0, "BabbleProbability", "found -0.1")]
    [InlineData(double.NaN, 0.0, "BabbleProbability", "found NaN")]
    public void Probability_OutOfRangeOrNaN_ThrowsNamingIt(double babble, double music, string paramName, string found)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Mixer().WithAugmentation(false, babble, music));

        Assert.Equal(paramName, e.ParamName);
        Assert.Contains($"Expected a probability in [0, 1]; {found}.", e.Message);
    }

    [Fact]
    public void Constructor_SilentCleanUtterances_ThrowsListingThem()
    {
        var e = Assert.Throws<ArgumentException>(() => new OnTheFlyMixer(
            [new float[500], DenoisingFixtures.Tone(100), new float[300]], [DenoisingFixtures.Noise(100)]));

        Assert.Equal("clean", e.ParamName);
        Assert.Contains("found 3 clean utterance(s), 0 null, 2 empty or silent (index 0, 2), of which 2 all zero (index 0, 2).", e.Message);
    }

    [Fact]
    public void FromExamples_ExampleWithSilentNoise_ThrowsNamingTheExample()
    {
        var clean = DenoisingFixtures.Tone(100);
        var noise = DenoisingFixtures.Noise(100);
        var good = new DenoisingExample("trx0000.wav", clean.Zip(noise, (c, n) => c + n).ToArray(), clean, noise);
        var silentNoise = new DenoisingExample("trx0001.wav", clean, clean, new float[100]);

        var e = Assert.Throws<ArgumentException>(() => OnTheFlyMixer.FromExamples([good, silentNoise]));

        Assert.Equal("examples", e.ParamName);
        Assert.Contains("Example 'trx0001.wav': its noise signal is silent", e.Message);
    }

    [Fact]
    public void Constructor_NullUtterance_ThrowsWithIndex()
    {
        var e = Assert.Throws<ArgumentException>(() => new OnTheFlyMixer([DenoisingFixtures.Tone(100), null!], [DenoisingFixtures.Noise(100)]));

        Assert.Contains("1 null (index 1)", e.Message);
    }

    [Fact]
    public void Constructor_InfiniteNoiseSample_ThrowsWithSourceAndSample()
    {
        float[] noise = DenoisingFixtures.Noise(100);
        noise[42] = float.PositiveInfinity;

        var e = Assert.Throws<ArgumentException>(() => new OnTheFlyMixer([DenoisingFixtures.Tone(100)], [DenoisingFixtures.Noise(100), noise]));

        Assert.Equal("noise", e.ParamName);
        Assert.Contains($"noise source 1 has {float.PositiveInfinity} at sample 42", e.Message);
    }

    [Fact]
    public void Mix_ExcerptsAlmostAlwaysSilent_ThrowsInsteadOfRecursing()
    {
        // One audible sample in 100,000: a 10-sample excerpt holds it with probability 1e-4, so 1000 draws almost surely
        // (and, with this seed, certainly) all come out silent. Before the bound this recursed until the stack overflowed.
        var clean = new float[100_000];
        clean[0] = 0.5f;
        var mixer = new OnTheFlyMixer([clean], [DenoisingFixtures.Noise(1000)]);

        var e = Assert.Throws<InvalidOperationException>(() => mixer.Mix(new Random(1), maxSamples: 10));

        Assert.Contains("1000 draws in a row gave a silent clean or noise excerpt (maxSamples = 10)", e.Message);
    }

    [Fact]
    public void FromExamples_NullExample_ThrowsNamingIndex()
    {
        float[] clean = DenoisingFixtures.Tone(100), noise = DenoisingFixtures.Noise(100);
        var good = new DenoisingExample("trx0000.wav", DenoisingFixtures.Add(clean, noise), clean, noise);

        var e = Assert.Throws<ArgumentException>(() => OnTheFlyMixer.FromExamples([good, null!]));

        Assert.Equal("examples", e.ParamName);
        Assert.Contains("found null at index 1", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void CleanSeconds_NonPositiveRate_ThrowsNamingRate(int sampleRate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Mixer().CleanSeconds(sampleRate));

        Assert.Equal("sampleRate", e.ParamName);
        Assert.Contains($"found {sampleRate}", e.Message);
    }

    [Fact]
    public void Mix_NegativeMaxSamples_ThrowsNamingValue()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Mixer().Mix(new Random(1), maxSamples: -5));

        Assert.Equal("maxSamples", e.ParamName);
        Assert.Contains("found -5", e.Message);
    }
}
