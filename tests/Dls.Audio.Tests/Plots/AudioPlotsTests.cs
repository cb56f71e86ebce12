using Dls.Audio.Plots;

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
}
