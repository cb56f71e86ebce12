using System.Collections;
using System.Reflection;
using Module = TorchSharp.torch.nn.Module;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Compression.LowRank;

/// <summary>
/// Swaps one child module of a parent for another, so that both the parent's forward pass and its registration
/// (state dict, <c>parameters()</c>) see the new child. TorchSharp keeps children in two places: the field or list the
/// parent's <c>forward</c> reads (a field of a user module, <c>Sequential</c>'s list, <c>ModuleList</c>'s list) and the
/// registration dictionary; both are updated.
/// </summary>
internal static class ModuleReplacer
{
    private const BindingFlags InstanceFields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    private static readonly FieldInfo RegisteredChildren = typeof(Module).GetField("_internal_submodules", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingFieldException("TorchSharp's Module._internal_submodules was not found; this TorchSharp version is not supported.");

    /// <summary>Replaces the child registered as <paramref name="childName"/> of <paramref name="parent"/>.</summary>
    /// <exception cref="NotSupportedException">The parent holds the child somewhere the new module's type does not fit.</exception>
    public static void Replace(Module parent, string childName, Module oldChild, Module newChild)
    {
        // Every place is checked before any is written, so a failure leaves the parent unchanged.
        var writes = Plan(parent, childName, oldChild, newChild.GetType());
        foreach (var write in writes)
            write(newChild);

        // Re-register under the same key, keeping the key's position (state-dict order).
        var registered = RegisteredChildren.GetValue(parent)!;
        var indexer = registered.GetType().GetProperty("Item", [typeof(string)])
            ?? throw new MissingMemberException("TorchSharp's OrderedDict string indexer was not found.");
        indexer.SetValue(registered, newChild, [childName]);
    }

    /// <summary>Checks, without changing anything, that <see cref="Replace"/> could put a <paramref name="newChildType"/> there.</summary>
    /// <exception cref="NotSupportedException">The parent holds the child somewhere a <paramref name="newChildType"/> does not fit.</exception>
    public static void CheckReplaceable(Module parent, string childName, Module oldChild, Type newChildType)
        => Plan(parent, childName, oldChild, newChildType);

    /// <summary>The writes that put a new child where the parent's forward pass reads <paramref name="oldChild"/>.</summary>
    private static List<Action<Module>> Plan(Module parent, string childName, Module oldChild, Type newChildType)
    {
        var writes = new List<Action<Module>>();
        for (var type = parent.GetType(); type is not null && type != typeof(Module); type = type.BaseType)
        {
            foreach (var field in type.GetFields(InstanceFields))
            {
                object? value = field.GetValue(parent);
                if (ReferenceEquals(value, oldChild))
                {
                    if (!field.FieldType.IsAssignableFrom(newChildType))
                        throw new NotSupportedException(
                            $"Cannot replace '{childName}' in {parent.GetType().Name}: its field '{field.Name}' is declared as {field.FieldType.Name}, " +
                            $"which cannot hold a {newChildType.Name}. Declare the field as Module<Tensor, Tensor>.");
                    writes.Add(newChild => field.SetValue(parent, newChild));
                }
                else if (value is IList list && value is not Array)
                {
                    PlanInList(list, oldChild, newChildType, childName, parent, writes);
                }
            }
        }
        if (writes.Count == 0)
            throw new NotSupportedException(
                $"Cannot replace '{childName}' in {parent.GetType().Name}: the child is registered but not held in a field or list the forward pass can read.");
        return writes;
    }

    private static void PlanInList(IList list, Module oldChild, Type newChildType, string childName, Module parent, List<Action<Module>> writes)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (!ReferenceEquals(list[i], oldChild))
                continue;
            var elementType = list.GetType().IsGenericType ? list.GetType().GetGenericArguments()[0] : typeof(object);
            if (!elementType.IsAssignableFrom(newChildType))
                throw new NotSupportedException(
                    $"Cannot replace '{childName}' in {parent.GetType().Name}: it sits in a list of {elementType.Name}, which cannot hold a {newChildType.Name}.");
            int index = i;
            writes.Add(newChild => list[index] = newChild);
        }
    }
}
