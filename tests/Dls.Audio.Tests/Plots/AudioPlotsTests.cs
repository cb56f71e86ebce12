using System.Buffers.Binary;
using Dls.Audio.Plots;
using Dls.Audio.Spectral;

namespace Dls.Audio.Tests.Plots;

public sealed class AudioPlotsTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static AudioSignal Chirp()
    {
        // 1 s linear chirp 200 Hz → 6 kHz at 16 kHz plus a steady 1 kHz tone: both visible in a correct picture.
        const int rate = 16000;
        var x = new float[rate];
        for (int i = 0; i < x.Length; i++)
        {
            double t = (double)i / rate;
            x[i] = (float)((0.4 * Math.Sin(2 * Math.PI * ((200 * t) + (0.5 * 5800 * t * t)))) + (0.2 * Math.Sin(2 * Math.PI * 1000 * t)));
        }

        return new AudioSignal(x, rate);
    }

    [Fact]
    public void SaveSpectrogramAndWaveform_Chirp_WritesPngs()
    {
        // DLS_AUDIO_PLOT_DIR keeps the pictures for a human look; otherwise a temporary folder is used and removed.
        string? keep = Environment.GetEnvironmentVariable("DLS_AUDIO_PLOT_DIR");
        string dir = keep ?? Directory.CreateTempSubdirectory("dls-plots").FullName;
        try
        {
            string spectrogram = Path.Combine(dir, "chirp_spectrogram.png");
            string waveform = Path.Combine(dir, "chirp_waveform.png");

            AudioPlots.SaveSpectrogram(spectrogram, Chirp(), "chirp 200 Hz → 6 kHz + 1 kHz tone");
            AudioPlots.SaveWaveform(waveform, Chirp(), "chirp");

            foreach (string path in new[] { spectrogram, waveform })
            {
                byte[] bytes = File.ReadAllBytes(path);
                Assert.Equal(PngSignature, bytes[..8]);
                Assert.True(bytes.Length > 10_000, $"{path} is only {bytes.Length} bytes");
            }
        }
        finally
        {
            if (keep is null)
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public void RenderSpectrogram_EmptySignal_ArgumentException()
    {
        Assert.Throws<ArgumentException>(() => AudioPlots.RenderSpectrogram(new AudioSignal([], 16000)));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void RenderSpectrogramAndWaveform_NonFiniteSample_ArgumentExceptionWithIndex(float bad)
    {
        // One NaN used to make the spectrogram's maximum NaN and every pixel the floor colour: a blank picture, no error.
        AudioSignal chirp = Chirp();
        chirp.Samples[1234] = bad;

        var spectrogram = Assert.Throws<ArgumentException>(() => AudioPlots.RenderSpectrogram(chirp));
        var waveform = Assert.Throws<ArgumentException>(() => AudioPlots.RenderWaveform(chirp));

        foreach (ArgumentException ex in new[] { spectrogram, waveform })
        {
            Assert.Equal("signal", ex.ParamName);
            Assert.Contains($"Expected finite samples; found {bad} at index 1234 of 16000", ex.Message);
        }
    }

    [Fact]
    public void RenderWaveform_EmptySignal_ArgumentExceptionNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => AudioPlots.RenderWaveform(new AudioSignal([], 16000)));

        Assert.Equal("signal", ex.ParamName);
        Assert.Contains("Cannot draw the waveform of an empty signal", ex.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-20.0)]
    [InlineData(double.NaN)]
    public void RenderSpectrogram_DynamicRangeNotPositive_ArgumentOutOfRangeNamingValue(double range)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => AudioPlots.RenderSpectrogram(Chirp(), dynamicRangeDb: range));

        Assert.Equal("dynamicRangeDb", ex.ParamName);
        Assert.Equal(range, ex.ActualValue);
        Assert.Contains("The dynamic range must be a positive number of dB", ex.Message);
    }

    [Theory]
    [InlineData(49, 400, "width")]
    [InlineData(10001, 400, "width")]
    [InlineData(800, 49, "height")]
    [InlineData(800, 10001, "height")]
    public void RenderSpectrogramAndWaveform_PictureSizeOutOfRange_ArgumentOutOfRangeNamingTheBadSide(int width, int height, string param)
    {
        var spectrogram = Assert.Throws<ArgumentOutOfRangeException>(() => AudioPlots.RenderSpectrogram(Chirp(), width: width, height: height));
        var waveform = Assert.Throws<ArgumentOutOfRangeException>(() => AudioPlots.RenderWaveform(Chirp(), width: width, height: height));

        foreach (ArgumentOutOfRangeException ex in new[] { spectrogram, waveform })
        {
            Assert.Equal(param, ex.ParamName);
            Assert.Contains($"Picture size must be 50..10000 pixels each way; found {width} × {height}", ex.Message);
        }
    }

    [Fact]
    public void RenderSpectrogram_UncentredOptionsAndSignalShorterThanNFft_CentresInsteadOfFailing()
    {
        // 300 samples cannot fill one uncentred 1024-sample frame; the picture falls back to centred frames, which pad.
        var shortSignal = new AudioSignal(Chirp().Samples[..300], 16000);
        var options = new StftOptions { NFft = 1024, HopLength = 256, Center = false };
        using (var stft = new Stft(options))
        {
            Assert.Throws<ArgumentException>(() => stft.Forward(shortSignal.Samples));
        }

        byte[] png = AudioPlots.RenderSpectrogram(shortSignal, options: options, width: 200, height: 150);

        Assert.Equal(PngSignature, png[..8]);
        Assert.Equal(200, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));   // IHDR width
        Assert.Equal(150, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));   // IHDR height
    }
}
