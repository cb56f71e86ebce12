using TorchSharp;
using static TorchSharp.torch.nn;

namespace Dls.Compression.Modules;

/// <summary>
/// A module's tensors belong to the module. TorchSharp registers a tensor with the dispose scope open on the thread that
/// creates it, and some module constructors (<c>nn.GRU</c>'s parameters, <c>new Parameter(…)</c>, buffers made with
/// <c>zeros</c>) leave theirs there: a model built, loaded or compressed inside a caller's per-call scope would die with
/// that scope ("Tensor invalid" on the next call, or a checkpoint saved without its buffers).
/// </summary>
public static class ModuleOwnership
{
    /// <summary>
    /// Takes every parameter and buffer of <paramref name="module"/> (and of its children) out of any dispose scope, so
    /// that they live exactly as long as the module. The library's modules call it at the end of their constructors;
    /// call it on modules of your own that you build inside a scope and keep beyond it.
    /// </summary>
    /// <typeparam name="TModule">The module type.</typeparam>
    /// <param name="module">The module.</param>
    /// <returns>The same module.</returns>
    public static TModule DetachStateFromDisposeScopes<TModule>(this TModule module) where TModule : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        foreach (var parameter in module.parameters())
        {
            parameter.DetachFromDisposeScope();
        }

        foreach (var buffer in module.buffers())
        {
            buffer.DetachFromDisposeScope();
        }

        return module;
    }
}
