using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Audio.Spectral;

/// <summary>
/// Log-mel spectrogram: log(mel · |STFT|^Power + Offset), the usual speaker-verification feature. Differentiable,
/// batched, on tensors; <see cref="Compute(ReadOnlySpan{float})"/> works on plain arrays.
/// </summary>
public sealed class LogMelSpectrogram : IDisposable
{
    private readonly Stft _stft;
    private readonly Tensor _mel32;
    private readonly Tensor _mel64;
    private bool _disposed;

    /// <summary>Creates the transform.</summary>
    /// <param name="stftOptions">STFT options; <see langword="null"/> gives 25 ms Hann windows every 10 ms at 16 kHz
    /// (NFft 512, WinLength 400, HopLength 160, centred, zero padding).</param>
    /// <param name="melOptions">Mel options; their NFft must equal the STFT's. <see langword="null"/> gives 40 Slaney bands at 16 kHz.</param>
    /// <param name="power">Exponent of the magnitude: 2 for power (default), 1 for magnitude.</param>
    /// <param name="offset">Added before the natural log to keep silence finite (default 1e-6).</param>
    public LogMelSpectrogram(StftOptions? stftOptions = null, MelOptions? melOptions = null, double power = 2.0, double offset = 1e-6)
    {
        stftOptions ??= new StftOptions { NFft = 512, WinLength = 400, HopLength = 160 };
        melOptions ??= new MelOptions { NFft = stftOptions.NFft };
        if (melOptions.NFft != stftOptions.NFft)
        {
            throw new ArgumentException($"Mel NFft ({melOptions.NFft}) must equal STFT NFft ({stftOptions.NFft}).", nameof(melOptions));
        }

        if (!(power > 0) || !(offset > 0))
        {
            throw new ArgumentException($"Power and offset must be positive; found power {power}, offset {offset}.");
        }

        Power = power;
        Offset = offset;
        Filterbank = new MelFilterbank(melOptions);
        _stft = new Stft(stftOptions);
        _mel64 = Filterbank.ToTensor(ScalarType.Float64).DetachFromDisposeScope();
        _mel32 = Filterbank.ToTensor(ScalarType.Float32).DetachFromDisposeScope();
    }

    /// <summary>The mel filters.</summary>
    public MelFilterbank Filterbank { get; }

    /// <summary>The STFT options.</summary>
    public StftOptions StftOptions => _stft.Options;

    /// <summary>The magnitude exponent.</summary>
    public double Power { get; }

    /// <summary>The offset added before the log.</summary>
    public double Offset { get; }

    /// <summary>Computes log-mel features.</summary>
    /// <param name="waveform"><c>(samples)</c> or <c>(batch, samples)</c>, float32 or float64.</param>
    /// <returns><c>(mels, frames)</c> or <c>(batch, mels, frames)</c>.</returns>
    public Tensor Forward(Tensor waveform)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = NewDisposeScope();
        Tensor spec = _stft.Forward(waveform);
        Tensor magnitude = spec.abs();
        Tensor powered = Power == 1.0 ? magnitude : Power == 2.0 ? magnitude.square() : magnitude.pow(Power);
        Tensor mel = magnitude.dtype == ScalarType.Float64 ? _mel64 : _mel32;
        if (mel.device != powered.device)
        {
            mel = mel.to(powered.device);
        }

        Tensor result = torch.matmul(mel, powered).add(Offset).log();
        return scope.MoveToOuter(result);
    }

    /// <summary>Computes log-mel features of plain samples.</summary>
    /// <param name="samples">The signal.</param>
    /// <returns>Mels × frames, row-major, and the frame count.</returns>
    public (float[] Features, int Frames) Compute(ReadOnlySpan<float> samples)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor y = Forward(torch.tensor(samples.ToArray()));
        return (y.contiguous().data<float>().ToArray(), (int)y.shape[^1]);
    }

    /// <summary>Converts power values to decibels like <c>librosa.power_to_db</c>: 10·log10(max(amin, S) / ref),
    /// then floors at (max − topDb).</summary>
    /// <param name="power">Power values (modified copy is returned).</param>
    /// <param name="reference">The 0 dB reference (default 1).</param>
    /// <param name="amin">Smallest power considered (default 1e-10).</param>
    /// <param name="topDb">Dynamic range kept below the maximum, ≥ 0 (<see cref="double.PositiveInfinity"/> keeps
    /// everything), or <see langword="null"/> for none (default 80 dB).</param>
    /// <returns>Values in dB.</returns>
    /// <exception cref="ArgumentException"><paramref name="amin"/> or <paramref name="reference"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topDb"/> is negative or NaN.</exception>
    public static float[] PowerToDb(ReadOnlySpan<float> power, double reference = 1.0, double amin = 1e-10, double? topDb = 80.0)
    {
        if (!(amin > 0) || !(reference > 0))
        {
            throw new ArgumentException($"amin and reference must be positive; found amin {amin}, reference {reference}.");
        }

        // librosa.power_to_db raises for top_db < 0: a negative range would lift every value above the maximum, and NaN
        // would turn every value into NaN.
        if (topDb is double range && !(range >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(topDb), range, $"topDb must be a non-negative number of dB (or null for no floor); found {range}.");
        }

        var db = new float[power.Length];
        double refDb = 10 * Math.Log10(Math.Max(amin, reference));
        double max = double.NegativeInfinity;
        for (int i = 0; i < db.Length; i++)
        {
            double v = (10 * Math.Log10(Math.Max(amin, power[i]))) - refDb;
            db[i] = (float)v;
            max = Math.Max(max, v);
        }

        if (topDb is double top)
        {
            float floor = (float)(max - top);
            for (int i = 0; i < db.Length; i++)
            {
                db[i] = MathF.Max(db[i], floor);
            }
        }

        return db;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stft.Dispose();
        _mel32.Dispose();
        _mel64.Dispose();
    }
}
