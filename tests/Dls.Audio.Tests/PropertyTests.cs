using Dls.Audio.IO;
using Dls.Audio.Levels;
using Dls.Audio.Metrics;
using Dls.Audio.Resampling;
using Dls.Audio.Spectral;
using TorchSharp;
using static TorchSharp.torch;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Dls.Audio.Tests;

/// <summary>Properties checked on generated inputs (FsCheck), where an identity holds for every input.</summary>
public sealed class PropertyTests
{
    [Property(MaxTest = 100)]
    public bool Pcm16_WriteRead_IntegersSurviveExactly(short[] values)
    {
        float[] samples = values.Select(v => v / 32768f).ToArray();
        using var buffer = new MemoryStream();
        WavFile.Write(buffer, new WavData(8000, [samples], WavSampleFormat.Pcm16));
        buffer.Position = 0;

        return WavFile.Read(buffer).GetChannel(0).SequenceEqual(samples);
    }

    [Property(MaxTest = 100)]
    public bool Pcm24_WriteRead_IntegersSurviveExactly(int[] values)
    {
        float[] samples = values.Select(v => (v % 8388608) / 8388608f).ToArray();
        using var buffer = new MemoryStream();
        WavFile.Write(buffer, new WavData(8000, [samples], WavSampleFormat.Pcm24));
        buffer.Position = 0;

        return WavFile.Read(buffer).GetChannel(0).SequenceEqual(samples);
    }

    [Property(MaxTest = 200)]
    public bool Resampler_OutputLength_IsRoundedRatio(NonNegativeInt length, PositiveInt inRate, PositiveInt outRate)
    {
        int n = length.Get % 5000;
        int rateIn = 1000 + (inRate.Get % 96000);
        int rateOut = 1000 + (outRate.Get % 96000);
        long expected = (long)Math.Floor(((double)n * rateOut / rateIn) + 0.5);

        return Resampler.OutputLength(n, rateIn, rateOut) == expected;
    }

    [Property(MaxTest = 50)]
    public Property MixAtSnr_AchievesTargetSnr(int seed)
    {
        Gen<double> snrs = Gen.Choose(-200, 400).Select(v => v / 10.0);
        return Prop.ForAll(snrs.ToArbitrary(), snr =>
        {
            var random = new Random(seed);
            float[] speech = Enumerable.Range(0, 800).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            float[] noise = Enumerable.Range(0, 500).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();

            NoisyMixture mix = NoiseMixer.MixAtSnr(speech, noise, snr);

            // float32 rounding of the mixture moves the measured SNR by far less than 0.01 dB at these levels.
            return Math.Abs(SignalMetrics.SnrDb(speech, mix.Mixture) - snr) < 0.01;
        });
    }

    [Property(MaxTest = 100)]
    public bool SiSdr_PositiveScaleOfEstimate_Invariant(int seed, PositiveInt scale)
    {
        var random = new Random(seed);
        float[] clean = Enumerable.Range(0, 256).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        float[] estimate = clean.Select(v => v + (float)((random.NextDouble() - 0.5) * 0.3)).ToArray();
        float factor = 1 + (scale.Get % 100);
        float[] scaled = estimate.Select(v => v * factor).ToArray();

        // Scaling is exact up to float rounding of each product (≤ 6e-8 relative): ≤ 1e-5 dB.
        return Math.Abs(SignalMetrics.SiSdrDb(clean, estimate) - SignalMetrics.SiSdrDb(clean, scaled)) < 1e-5;
    }

    [Property(MaxTest = 20)]
    public bool StftBatch_InverseOfForward_ReconstructsAnyLength(PositiveInt length, bool reflect, int seed)
    {
        // Hann with hop ≤ n_fft / 2 satisfies NOLA everywhere once centred, so every length must come back.
        int n = 600 + (length.Get % 3000);
        int hop = (seed & 1) == 0 ? 128 : 256;
        using var scope = NewDisposeScope();
        using var stft = new Stft(new StftOptions { NFft = 512, HopLength = hop, PadMode = reflect ? StftPadMode.Reflect : StftPadMode.Constant });
        Tensor x = torch.rand(2, n, generator: new Generator((ulong)(uint)seed)) - 0.5;

        Tensor y = stft.Inverse(stft.Forward(x), n);

        // float32 round trip: relative error ~1e-7; 1e-5 leaves margin for unlucky rounding.
        double relative = (y - x).norm().item<float>() / x.norm().item<float>();
        return y.shape.SequenceEqual(x.shape) && relative < 1e-5;
    }

    [Property(MaxTest = 30)]
    public bool Resampler_ConstantSignal_StaysConstantAwayFromEdges(PositiveInt inRate, PositiveInt outRate)
    {
        // DC is in every passband: a constant maps to the same constant (within the 80 dB design ripple, ~1e-4)
        // once the filter no longer overlaps the zero-padded ends.
        int[] rates = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000];
        int rateIn = rates[inRate.Get % rates.Length];
        int rateOut = rates[outRate.Get % rates.Length];
        var resampler = new Resampler(rateIn, rateOut);
        float[] x = Enumerable.Repeat(0.5f, rateIn / 2).ToArray();

        float[] y = resampler.Process(x);

        int margin = (int)Math.Ceiling(resampler.TapsPerOutputSample * (double)rateOut / rateIn) + 2;
        for (int i = margin; i < y.Length - margin; i++)
        {
            if (Math.Abs(y[i] - 0.5f) > 1e-4)
            {
                return false;
            }
        }

        return y.Length - (2 * margin) > 0;
    }
}
