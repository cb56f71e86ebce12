using Dls.Audio.IO;

namespace Dls.Models.Checkpoints;

/// <summary>
/// A checkpoint's two files held in memory, the weights checked against the sidecar (<see cref="Checkpoint.ReadFiles"/>).
/// A run that trained a model in a scratch folder publishes it with <see cref="WritesTo"/>, in the same
/// <see cref="AtomicFile.WriteAll"/> as the figures measured on it, so the two are replaced together.
/// </summary>
public sealed class CheckpointFiles
{
    private readonly byte[] _weights;
    private readonly byte[] _sidecar;

    internal CheckpointFiles(CheckpointInfo info, byte[] weights, byte[] sidecar)
    {
        Info = info;
        _weights = weights;
        _sidecar = sidecar;
    }

    /// <summary>The parsed sidecar.</summary>
    public CheckpointInfo Info { get; }

    /// <summary>The weights file's bytes.</summary>
    public ReadOnlyMemory<byte> Weights => _weights;

    /// <summary>The sidecar's bytes.</summary>
    public ReadOnlyMemory<byte> Sidecar => _sidecar;

    /// <summary>
    /// The writes that put this checkpoint at <paramref name="destination"/> (weights) and its sidecar path, for
    /// <see cref="AtomicFile.WriteAll"/>: weights first, sidecar second, so a reader that finds the new sidecar finds
    /// the new weights.
    /// </summary>
    /// <param name="destination">The weights path to write.</param>
    /// <returns>Two (path, write) pairs.</returns>
    public IReadOnlyList<(string Path, Action<Stream> Write)> WritesTo(string destination)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        return Checkpoint.PairWrites(destination, _weights, _sidecar);
    }

    /// <summary>Writes this checkpoint to <paramref name="destination"/> and its sidecar path, as one unit.</summary>
    /// <param name="destination">The weights path to write.</param>
    public void WriteTo(string destination) => AtomicFile.WriteAll(WritesTo(destination));
}
