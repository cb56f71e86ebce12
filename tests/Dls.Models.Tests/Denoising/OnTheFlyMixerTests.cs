using Dls.Audio.IO;
using Dls.Audio.Resampling;
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

    /// <summary>
    /// Writes clean/a.wav (12,000 samples), clean/sub/b.wav (8,000) and noise/n.wav (5,000) at 16 kHz, float32 so that the
    /// samples read back are the ones written; returns the three signals.
    /// </summary>
    private static (float[] A, float[] B, float[] N) WriteFolders(TempFolder temp)
    {
        float[] a = DenoisingFixtures.Tone(12000, 1), b = DenoisingFixtures.Tone(8000, 2), n = DenoisingFixtures.Noise(5000, 3);
        Directory.CreateDirectory(temp.File("clean/sub"));
        Directory.CreateDirectory(temp.File("noise"));
        WavFile.Write(temp.File("clean/a.wav"), a, DenoisingFixtures.Rate, WavSampleFormat.Float32);
        WavFile.Write(temp.File("clean/sub/b.wav"), b, DenoisingFixtures.Rate, WavSampleFormat.Float32);
        WavFile.Write(temp.File("noise/n.wav"), n, DenoisingFixtures.Rate, WavSampleFormat.Float32);
        return (a, b, n);
    }

    [Fact]
    public void FromFolders_TwoFolders_PoolsEveryWavOfEachRecursively()
    {
        using var temp = new TempFolder();
        (float[] a, float[] b, _) = WriteFolders(temp);

        OnTheFlyMixer mixer = OnTheFlyMixer.FromFolders(temp.File("clean"), temp.File("noise"), DenoisingFixtures.Rate, minSnrDb: 0, maxSnrDb: 5);

        Assert.Equal((2, 1), (mixer.CleanCount, mixer.NoiseCount));
        Assert.Equal((0.0, 5.0), (mixer.MinSnrDb, mixer.MaxSnrDb));
        Assert.Equal(DenoisingFixtures.Rate, mixer.SampleRate);
        Assert.Equal((12000 + 8000) / 16000.0, mixer.CleanSeconds(DenoisingFixtures.Rate), 12);
        // Whole utterances (maxSamples 0): each example's clean signal is one of the files times the level Mix draws
        // (one float32 product per sample: relative error ≤ 2⁻²⁴ ≈ 6e-8, so a residual below 1e-6 of the peak is that file).
        var rng = new Random(4);
        for (int i = 0; i < 8; i++)
        {
            float[] clean = mixer.Mix(rng).Clean;
            float[] file = clean.Length == a.Length ? a : b;
            double scale = clean.Zip(file, (c, f) => (double)c * f).Sum() / file.Sum(f => (double)f * f);
            double residual = clean.Zip(file, (c, f) => Math.Abs(c - (scale * f))).Max();
            Assert.True(clean.Length == a.Length || clean.Length == b.Length, $"draw {i}: {clean.Length} samples");
            Assert.True(residual < 1e-6 * clean.Max(Math.Abs), $"draw {i}: residual {residual} after scaling by {scale}");
        }
    }

    [Fact]
    public void FromFolders_OtherRate_LoadsResampledAndKeepsThatRate()
    {
        // At 8 kHz the files are resampled on loading (12,000 → 6,000 and 8,000 → 4,000 samples); the mixer's rate, which
        // its synthetic music is made at, is the pools' rate.
        using var temp = new TempFolder();
        WriteFolders(temp);

        OnTheFlyMixer mixer = OnTheFlyMixer.FromFolders(temp.File("clean"), temp.File("noise"), 8000);

        long expected = Resampler.OutputLength(12000, 16000, 8000) + Resampler.OutputLength(8000, 16000, 8000);
        Assert.Equal(10_000, expected);
        Assert.Equal(expected / 8000.0, mixer.CleanSeconds(8000), 12);
        Assert.Equal(8000, mixer.SampleRate);
        Assert.Equal(8000, mixer.WithAugmentation(augmentNoise: false, babbleProbability: 0, musicProbability: 1).SampleRate);
    }

    [Fact]
    public void FromFolders_MissingFolder_ThrowsNamingItsFullPath()
    {
        using var temp = new TempFolder();
        WriteFolders(temp);

        var e = Assert.Throws<DirectoryNotFoundException>(() => OnTheFlyMixer.FromFolders(temp.File("speech"), temp.File("noise"), DenoisingFixtures.Rate));

        Assert.Contains($"The clean folder '{temp.File("speech")}' does not exist", e.Message);
    }

    [Fact]
    public void FromFolders_FolderWithoutWav_ThrowsNamingIt()
    {
        using var temp = new TempFolder();
        WriteFolders(temp);
        Directory.CreateDirectory(temp.File("empty"));
        File.WriteAllText(temp.File("empty/readme.txt"), "no audio here");

        var e = Assert.Throws<InvalidDataException>(() => OnTheFlyMixer.FromFolders(temp.File("clean"), temp.File("empty"), DenoisingFixtures.Rate));

        Assert.Contains($"The noise folder '{temp.File("empty")}' holds no .wav files (expected at least 1)", e.Message);
    }

    [Fact]
    public void FromFolders_NaNSample_ThrowsNamingFileAndIndex()
    {
        using var temp = new TempFolder();
        WriteFolders(temp);
        float[] bad = DenoisingFixtures.Tone(3000, 5);
        bad[7] = float.NaN;
        WavFile.Write(temp.File("clean/sub/c.wav"), bad, DenoisingFixtures.Rate, WavSampleFormat.Float32);

        var e = Assert.Throws<InvalidDataException>(() => OnTheFlyMixer.FromFolders(temp.File("clean"), temp.File("noise"), DenoisingFixtures.Rate));

        Assert.Contains("The clean file '", e.Message);
        Assert.Contains("c.wav' has a non-finite sample (NaN) at index 7; expected finite samples", e.Message);
    }

    [Theory]
    [InlineData(0, "is empty")]
    [InlineData(2000, "is silent (all zero)")]
    public void FromFolders_SilentOrEmptyFile_ThrowsNamingIt(int length, string shown)
    {
        using var temp = new TempFolder();
        WriteFolders(temp);
        WavFile.Write(temp.File("noise/quiet.wav"), new float[length], DenoisingFixtures.Rate);

        var e = Assert.Throws<InvalidDataException>(() => OnTheFlyMixer.FromFolders(temp.File("clean"), temp.File("noise"), DenoisingFixtures.Rate));

        Assert.Contains($"The noise file '", e.Message);
        Assert.Contains($"quiet.wav' {shown}; expected audible audio", e.Message);
    }

    [Fact]
    public void FromExamples_NoExampleWithNoise_ThrowsSayingHowMany()
    {
        float[] clean = DenoisingFixtures.Tone(100), noisy = DenoisingFixtures.Add(clean, DenoisingFixtures.Noise(100));
        var voiceBank = new DenoisingExample("p232_001.wav", noisy, clean, null);

        var e = Assert.Throws<ArgumentException>(() => OnTheFlyMixer.FromExamples([voiceBank, voiceBank with { Name = "p232_002.wav" }]));

        Assert.Equal("examples", e.ParamName);
        Assert.Contains("Re-mixing needs examples whose noise is known (homework layout); found 2 example(s), none with noise", e.Message);
    }
}
