namespace Dls.Audio;

/// <summary>Checks on sample buffers that every layer above Dls.Audio makes before it trusts them.</summary>
public static class SampleChecks
{
    /// <summary>The index of the first NaN or ±∞ sample, or −1 when every sample is finite.</summary>
    /// <param name="samples">The samples.</param>
    /// <returns>The index, or −1.</returns>
    public static int IndexOfNonFinite(ReadOnlySpan<float> samples)
    {
        for (int i = 0; i < samples.Length; i++)
        {
            if (!float.IsFinite(samples[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
