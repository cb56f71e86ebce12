namespace Dls.Audio;

/// <summary>
/// A mono audio signal: samples in [-1, 1] (not enforced) and their sample rate in Hz.
/// </summary>
/// <remarks>
/// The record holds the array it was given (no copy). Record equality compares <see cref="Samples"/> by reference,
/// as for any array-valued record member.
/// </remarks>
public sealed record AudioSignal
{
    /// <summary>Creates a signal.</summary>
    /// <param name="Samples">The mono samples (not copied).</param>
    /// <param name="SampleRate">The sample rate in Hz; must be positive.</param>
    /// <exception cref="ArgumentNullException"><paramref name="Samples"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="SampleRate"/> is zero or negative.</exception>
#pragma warning disable IDE1006 // Parameter names match the properties, as in a positional record.
    public AudioSignal(float[] Samples, int SampleRate)
#pragma warning restore IDE1006
    {
        this.Samples = Samples;
        this.SampleRate = SampleRate;
    }

    /// <summary>The mono samples.</summary>
    public float[] Samples
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Samples));
            field = value;
        }
    }

    /// <summary>The sample rate in Hz (always positive).</summary>
    public int SampleRate
    {
        get;
        init
        {
            if (value <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(SampleRate), value, $"The sample rate must be a positive number of Hz; found {value}.");
            }

            field = value;
        }
    }

    /// <summary>The number of samples.</summary>
    public int Length => Samples.Length;

    /// <summary>The duration in seconds (<see cref="Length"/> / <see cref="SampleRate"/>).</summary>
    public double DurationSeconds => (double)Samples.Length / SampleRate;

    /// <summary>The duration as a <see cref="TimeSpan"/>.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds(DurationSeconds);

    /// <summary>Deconstructs the signal into its samples and sample rate.</summary>
    /// <param name="samples">The samples.</param>
    /// <param name="sampleRate">The sample rate in Hz.</param>
    public void Deconstruct(out float[] samples, out int sampleRate)
    {
        samples = Samples;
        sampleRate = SampleRate;
    }
}
