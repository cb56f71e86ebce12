namespace Dls.Speaker.Tests;

/// <summary>Deterministic synthetic "voices": harmonic tones whose pitch and spectral tilt differ per speaker.</summary>
internal static class TestAudio
{
    public const int Rate = 16000;

    /// <summary>A voiced signal: harmonics of f0 with amplitude falling as 1/k^tilt, slowly vibrating pitch, plus noise.</summary>
    public static float[] Voice(double f0, double tilt, double seconds, int seed, double amplitude = 0.3)
    {
        var rng = new Random(seed);
        int n = (int)(seconds * Rate);
        var x = new float[n];
        double phase = rng.NextDouble();
        for (int i = 0; i < n; i++)
        {
            double t = (double)i / Rate;
            double f = f0 * (1 + 0.03 * Math.Sin(2 * Math.PI * (2 + seed % 3) * t));
            phase += f / Rate;
            double s = 0;
            for (int k = 1; k * f0 < 6000; k++) s += Math.Sin(2 * Math.PI * k * phase) / Math.Pow(k, tilt);
            x[i] = (float)(amplitude * 0.3 * s + 0.005 * (rng.NextDouble() - 0.5));
        }
        return x;
    }
}
