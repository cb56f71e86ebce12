using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Checkpoints;

/// <summary>
/// The named tensors of one weights file written by another framework — a safetensors file (<c>SafeTensors</c>)
/// or a PyTorch <c>torch.save</c> file (<c>PyTorchFile</c>) — read into CPU tensors that this object owns.
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
