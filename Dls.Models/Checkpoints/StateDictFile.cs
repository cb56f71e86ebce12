using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Checkpoints;

/// <summary>The weights-file formats of other frameworks that <see cref="StateDictFile.Read"/> reads.</summary>
public enum WeightsFileFormat
{
    /// <summary>A <c>torch.save</c> file of PyTorch 1.6 or later (a zip archive; usually <c>.pt</c> or <c>.pth</c>), read by <see cref="PyTorchFile"/>.</summary>
    PyTorch,

    /// <summary>A safetensors file (<c>.safetensors</c>), read by <see cref="SafeTensors"/>.</summary>
    SafeTensors,
}

/// <summary>
/// The named tensors of one weights file written by another framework — a safetensors file (<see cref="SafeTensors"/>)
/// or a PyTorch <c>torch.save</c> file (<see cref="PyTorchFile"/>) — read into CPU tensors that this object owns.
/// Load them into a module with <see cref="StateDictImport.LoadInto"/>; dispose this object afterwards (the module
/// keeps copies).
/// </summary>
public sealed class StateDictFile : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;
    private bool _disposed;

    /// <summary>Takes ownership of <paramref name="tensors"/> (detached from any dispose scope).</summary>
    /// <param name="source">Where the tensors came from (a file path), for messages.</param>
    /// <param name="tensors">The tensors by name (ordinal keys), on the CPU.</param>
    /// <param name="metadata">Free-form text metadata stored with them (a safetensors <c>__metadata__</c>), or null for none.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> is empty, or a tensor is null or not on the CPU.</exception>
    public StateDictFile(string source, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentNullException.ThrowIfNull(tensors);
        _tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string name, Tensor tensor) in tensors)
        {
            if (tensor is null)
            {
                throw new ArgumentException($"Expected a tensor for every name; '{name}' of {source} has none.", nameof(tensors));
            }

            if (tensor.device_type != DeviceType.CPU)
            {
                throw new ArgumentException($"Expected CPU tensors; '{name}' of {source} is on {tensor.device}.", nameof(tensors));
            }

            if (!_tensors.TryAdd(name, tensor))
            {
                throw new ArgumentException($"Expected unique tensor names; '{name}' appears twice in {source}.", nameof(tensors));
            }

            tensor.DetachFromDisposeScope();
        }

        Source = source;
        Metadata = metadata is null
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
    }

    /// <summary>
    /// Tells the format of a weights file from its first bytes, whatever its name: a zip archive is a PyTorch file (and so
    /// is a bare pickle, PyTorch's format before 1.6, which <see cref="PyTorchFile"/> refuses saying how to save it
    /// again); eight bytes of header length followed by a JSON object is safetensors.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The format.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is neither (the message says what its first bytes are).</exception>
    public static WeightsFileFormat DetectFormat(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Weights file '{path}' not found.", path);
        }

        Span<byte> head = stackalloc byte[9];
        int read;
        using (FileStream stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        // A zip archive, or a pickle (0x80, protocol): PyTorch's format before 1.6, which PyTorchFile refuses saying how to
        // save it again. Both go to PyTorchFile, whose messages are the more specific.
        if ((read >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4) || (read >= 2 && head[0] == 0x80 && head[1] <= 5))
        {
            return WeightsFileFormat.PyTorch;
        }

        if (read == 9 && head[8] == (byte)'{')
        {
            return WeightsFileFormat.SafeTensors;
        }

        string found = read == 0 ? "an empty file" : $"first bytes {Convert.ToHexString(head[..read])}";
        string hint = File.Exists(Checkpoint.SidecarPath(path))
            ? $" It has a sidecar ({Path.GetFileName(Checkpoint.SidecarPath(path))}), so it is likely a Dls checkpoint: load it with Checkpoint.Load, or write it as safetensors with SafeTensors.Save."
            : string.Empty;
        throw new InvalidDataException(
            $"Weights file '{path}': expected a PyTorch file (a zip archive, starting 504B0304) or a safetensors file (an 8-byte header length, then '{{'), found {found}.{hint}");
    }

    /// <summary>Reads a weights file of either format (<see cref="DetectFormat"/>) with <see cref="PyTorchFile.Read(string)"/> or <see cref="SafeTensors.Read(string)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Its tensors, owned by the result.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is of neither format, or malformed (the readers' messages).</exception>
    /// <exception cref="NotSupportedException">A safetensors tensor has an element type TorchSharp cannot hold (U16, F8_*, …), or a
    /// PyTorch file exceeds <see cref="PyTorchFile.Read(string)"/>'s size limits.</exception>
    public static StateDictFile Read(string path) => DetectFormat(path) switch
    {
        WeightsFileFormat.PyTorch => PyTorchFile.Read(path),
        _ => SafeTensors.Read(path),
    };

    /// <summary>Where the tensors came from (a file path).</summary>
    public string Source { get; }

    /// <summary>The tensors by name (keys as stored in the file, e.g. <c>fc1.weight</c>).</summary>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public IReadOnlyDictionary<string, Tensor> Tensors
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _tensors;
        }
    }

    /// <summary>Text metadata stored with the tensors (empty when the format has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The names, shapes and element types, sorted by name: what a key map is written against.</summary>
    /// <returns>One entry per tensor.</returns>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public IReadOnlyList<StateEntry> Describe()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tensors
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new StateEntry(p.Key, p.Value.shape, p.Value.dtype.ToString()))
            .ToArray();
    }

    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (Tensor tensor in _tensors.Values)
        {
            tensor.Dispose();
        }
    }
}
