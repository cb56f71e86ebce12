namespace Dls.Audio.Tests;

public sealed class AudioSignalTests
{
    [Fact]
    public void Constructor_Valid_ExposesDuration()
    {
        var signal = new AudioSignal(new float[8000], 16000);

        Assert.Equal(0.5, signal.DurationSeconds);
        Assert.Equal(TimeSpan.FromMilliseconds(500), signal.Duration);
        var (samples, rate) = signal;
        Assert.Same(signal.Samples, samples);
        Assert.Equal(16000, rate);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-16000)]
    public void Constructor_NonPositiveRate_Throws(int rate)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new AudioSignal([], rate));

        Assert.Contains(rate.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
    }

    [Fact]
    public void With_InvalidRate_StillValidated()
    {
        var signal = new AudioSignal([], 8000);

        Assert.Throws<ArgumentOutOfRangeException>(() => signal with { SampleRate = 0 });
        Assert.Throws<ArgumentNullException>(() => new AudioSignal(null!, 8000));
    }
}
