using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using TorchSharp;

namespace Dls.Models.Checkpoints;

/// <summary>A Python tuple read from a pickle.</summary>
internal sealed class PickleTuple(IReadOnlyList<object?> items)
{
    public IReadOnlyList<object?> Items { get; } = items;
}

/// <summary>A Python list read from a pickle (filled by APPEND/APPENDS after it was created).</summary>
internal sealed class PickleList
{
    public List<object?> Items { get; } = [];
}

/// <summary>A Python set or frozenset read from a pickle, in pickle order.</summary>
internal sealed class PickleSet
{
    public List<object?> Items { get; } = [];
}

/// <summary>
/// A Python dict or <c>collections.OrderedDict</c> read from a pickle, in insertion order. A key set twice keeps its
/// first position and its last value, as in Python.
/// </summary>
internal sealed class PickleDict
{
    private readonly List<KeyValuePair<object?, object?>> _items = [];
    private readonly Dictionary<object, int> _index = [];

    public IReadOnlyList<KeyValuePair<object?, object?>> Items => _items;

    public void Set(object? key, object? value)
    {
        // Strings and numbers compare by value like Python's; other keys (tuples, None) are kept apart by reference.
        if (key is string or long or bool or double or BigInteger)
        {
            if (_index.TryGetValue(key, out int at))
            {
                _items[at] = new(key, value);
                return;
            }

            _index[key] = _items.Count;
        }

        _items.Add(new(key, value));
    }
}

/// <summary>A value the reader shows as text only: a device, a dtype, a quantization scheme, a layout, a complex number.</summary>
internal sealed record PickleText(string Text);

/// <summary>One of the allowed globals of <see cref="TorchPickle"/>, as pushed by GLOBAL / STACK_GLOBAL.</summary>
internal sealed record PickleGlobal(string Module, string Name, TorchGlobal Kind)
{
    public string FullName => $"{Module}.{Name}";
}

/// <summary>What an allowed global is: the only things REDUCE, NEWOBJ and BINPERSID may do with it.</summary>
internal enum TorchGlobal
{
    OrderedDict,
    RebuildTensorV2,
    RebuildTensor,
    RebuildParameter,
    RebuildParameterWithState,
    RebuildFromTypeV2,
    RebuildFromCpuTensor,
    UnsupportedTensorRebuild,
    TensorType,
    StorageType,
    Device,
    Size,
    GetLayout,
    Name,
    CodecsEncode,
    Set,
    FrozenSet,
    ByteArray,
    Complex,
}

/// <summary>A PyTorch storage type (<c>torch.FloatStorage</c> …): its element type and size.</summary>
/// <param name="Name">The Python name, e.g. <c>FloatStorage</c>.</param>
/// <param name="DType">The element type as PyTorch names it, e.g. <c>float32</c>.</param>
/// <param name="ElementSize">Bytes per element.</param>
/// <param name="ScalarType">The TorchSharp element type, or null where Dls does not read it (complex, quantized).</param>
internal sealed record TorchStorageType(string Name, string DType, int ElementSize, torch.ScalarType? ScalarType)
{
    /// <summary>
    /// The storage types of PyTorch's <c>torch/storage.py</c> <c>_dtype_to_storage_type_map</c>: the names torch.save
    /// writes into the pickle for typed storages (PyTorch ≥ 1.13 too, through <c>TypedStorage._pickle_storage_type</c>).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, TorchStorageType> All = new[]
    {
        new TorchStorageType("DoubleStorage", "float64", 8, torch.ScalarType.Float64),
        new TorchStorageType("FloatStorage", "float32", 4, torch.ScalarType.Float32),
        new TorchStorageType("HalfStorage", "float16", 2, torch.ScalarType.Float16),
        new TorchStorageType("BFloat16Storage", "bfloat16", 2, torch.ScalarType.BFloat16),
        new TorchStorageType("LongStorage", "int64", 8, torch.ScalarType.Int64),
        new TorchStorageType("IntStorage", "int32", 4, torch.ScalarType.Int32),
        new TorchStorageType("ShortStorage", "int16", 2, torch.ScalarType.Int16),
        new TorchStorageType("CharStorage", "int8", 1, torch.ScalarType.Int8),
        new TorchStorageType("ByteStorage", "uint8", 1, torch.ScalarType.Byte),
        new TorchStorageType("BoolStorage", "bool", 1, torch.ScalarType.Bool),
        new TorchStorageType("ComplexDoubleStorage", "complex128", 16, null),
        new TorchStorageType("ComplexFloatStorage", "complex64", 8, null),
        new TorchStorageType("QInt8Storage", "qint8", 1, null),
        new TorchStorageType("QInt32Storage", "qint32", 4, null),
        new TorchStorageType("QUInt8Storage", "quint8", 1, null),
        new TorchStorageType("QUInt4x2Storage", "quint4x2", 1, null),
        new TorchStorageType("QUInt2x4Storage", "quint2x4", 1, null),
        // Untyped storages hold bytes; PyTorch ≥ 2.1 pairs them with a dtype only in _rebuild_tensor_v3 (refused).
        new TorchStorageType("UntypedStorage", "uint8", 1, torch.ScalarType.Byte),
    }.ToDictionary(s => s.Name, StringComparer.Ordinal);
}

/// <summary>A storage of the archive, named by a persistent id <c>('storage', type, key, location, numel)</c>.</summary>
/// <param name="Key">The record name under <c>data/</c>.</param>
/// <param name="Type">The storage type.</param>
/// <param name="Location">Where it was saved from (<c>cpu</c>, <c>cuda:0</c>); informative only, everything is read to the CPU.</param>
/// <param name="Count">The number of elements of <paramref name="Type"/> it holds.</param>
internal sealed record TorchStorageRef(string Key, TorchStorageType Type, string Location, long Count);

/// <summary>A tensor as <c>_rebuild_tensor_v2</c> describes it: a strided view of a storage (nothing is read yet).</summary>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long Offset, long[] Size, long[] Stride);

/// <summary>A tensor the reader recognizes but does not read (quantized, sparse, new dtypes…): refused once its key is known.</summary>
internal sealed record UnsupportedTensor(string What);

/// <summary>
/// A small, safe unpickler for the <c>data.pkl</c> of a torch.save archive (pickle protocols 2–5). It never imports
/// or calls anything: like PyTorch's <c>torch/_weights_only_unpickler.py</c>, GLOBAL resolves only names on a fixed
/// allow-list (everything else is refused on sight), and REDUCE, BUILD, NEWOBJ and BINPERSID are interpreted by this
/// class for those names alone. The result is a tree of plain values (null, bool, long, <see cref="BigInteger"/>,
/// double, string, byte[], <see cref="PickleTuple"/>, <see cref="PickleList"/>, <see cref="PickleSet"/>,
/// <see cref="PickleDict"/>, <see cref="PickleText"/>) with tensors as <see cref="TorchTensorRef"/>. Every length
/// is checked against the bytes left, so a corrupt or hostile file costs memory in proportion to its own size.
/// Opcodes follow CPython's <c>Lib/pickle.py</c> / <c>Lib/pickletools.py</c>.
/// </summary>
internal sealed class TorchPickle
{
    /// <summary>The message tail of a refused global: what this reader reads instead.</summary>
    internal const string OnlyData = "only tensors, numbers, strings and dicts/lists of them are read";

    /// <summary>
    /// The longest LONG4 integer read, in bytes (about 2,466 decimal digits). Printing an integer costs time quadratic in
    /// its length — a 2 MB one took minutes — and Python itself refuses to print one of more than 4,300 digits.
    /// </summary>
    internal const int MaxIntegerBytes = 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>What a refused tensor-rebuild function would have made, for the message naming its key.</summary>
    private static readonly Dictionary<string, string> UnsupportedRebuilds = new(StringComparer.Ordinal)
    {
        ["_rebuild_qtensor"] = "a quantized tensor",
        ["_rebuild_sparse_tensor"] = "a sparse tensor",
        ["_rebuild_nested_tensor"] = "a nested tensor",
        ["_rebuild_meta_tensor_no_storage"] = "a meta tensor (it has no data)",
        ["_rebuild_wrapper_subclass"] = "a tensor subclass",
        ["_rebuild_tensor_v3"] = "a tensor of a dtype without a typed storage",
    };

    /// <summary>
    /// The allow-list, by <c>module.name</c> after Python 2 names are mapped to Python 3 ones (protocol 2 writes
    /// <c>__builtin__</c> for <c>builtins</c>), with the storage types of <see cref="TorchStorageType.All"/>.
    /// Declared after <see cref="UnsupportedRebuilds"/>, which it reads.
    /// </summary>
    private static readonly Dictionary<string, TorchGlobal> Allowed = BuildAllowList();

    private readonly byte[] _data;
    private readonly string _source;
    private readonly Dictionary<long, object?> _memo = [];
    private readonly Dictionary<string, TorchStorageRef> _storages = new(StringComparer.Ordinal);
    private readonly Stack<List<object?>> _marks = new();
    private List<object?> _stack = [];
    private int _pos;
    private int _opcodeAt;

    private TorchPickle(byte[] data, string source)
    {
        _data = data;
        _source = source;
    }

    /// <summary>Reads one pickled object.</summary>
    /// <param name="data">The pickle bytes (a whole <c>data.pkl</c> record).</param>
    /// <param name="source">What the bytes are, for messages (e.g. <c>PyTorch file 'model.pth', record archive/data.pkl</c>).</param>
    /// <returns>The object, as plain values (see the class remarks).</returns>
    /// <exception cref="InvalidDataException">
    /// The bytes are truncated or malformed, use an opcode this reader does not know, or name a global outside the
    /// allow-list (the message names it, the byte offset and <paramref name="source"/>).
    /// </exception>
    public static object? Load(byte[] data, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        return new TorchPickle(data, source).Run();
    }

    private static Dictionary<string, TorchGlobal> BuildAllowList()
    {
        var allowed = new Dictionary<string, TorchGlobal>(StringComparer.Ordinal)
        {
            ["collections.OrderedDict"] = TorchGlobal.OrderedDict,
            ["torch._utils._rebuild_tensor_v2"] = TorchGlobal.RebuildTensorV2,
            ["torch._utils._rebuild_tensor"] = TorchGlobal.RebuildTensor,
            ["torch._utils._rebuild_parameter"] = TorchGlobal.RebuildParameter,
            ["torch._utils._rebuild_parameter_with_state"] = TorchGlobal.RebuildParameterWithState,
            ["torch._tensor._rebuild_from_type_v2"] = TorchGlobal.RebuildFromTypeV2,
            ["torch._utils._rebuild_device_tensor_from_cpu_tensor"] = TorchGlobal.RebuildFromCpuTensor,
            ["torch.Tensor"] = TorchGlobal.TensorType,
            ["torch._tensor.Tensor"] = TorchGlobal.TensorType,
            ["torch.nn.parameter.Parameter"] = TorchGlobal.TensorType,
            ["torch.device"] = TorchGlobal.Device,
            ["torch.Size"] = TorchGlobal.Size,
            ["torch.serialization._get_layout"] = TorchGlobal.GetLayout,
            ["_codecs.encode"] = TorchGlobal.CodecsEncode,
            ["builtins.set"] = TorchGlobal.Set,
            ["builtins.frozenset"] = TorchGlobal.FrozenSet,
            ["builtins.bytearray"] = TorchGlobal.ByteArray,
            ["builtins.complex"] = TorchGlobal.Complex,
        };
        foreach (string name in UnsupportedRebuilds.Keys)
            allowed[$"torch._utils.{name}"] = TorchGlobal.UnsupportedTensorRebuild;
        foreach (string name in TorchStorageType.All.Keys)
            allowed[$"torch.{name}"] = TorchGlobal.StorageType;
        // Inert names a checkpoint may hold as values (a saved dtype; a quantized tensor's scheme): shown as text.
        string[] names =
        [
            "float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
            "complex32", "complex64", "complex128", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2",
            "float8_e4m3fnuz", "float8_e5m2fnuz", "qint8", "qint32", "quint8", "quint4x2", "quint2x4",
            "per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric",
            "per_channel_affine_float_qparams",
        ];
        foreach (string name in names)
            allowed[$"torch.{name}"] = TorchGlobal.Name;
        return allowed;
    }

    private object? Run()
    {
        while (true)
        {
            _opcodeAt = _pos;
            if (_pos >= _data.Length)
                throw Fail($"the pickle is truncated: it ends at byte {_data.Length} without a STOP opcode");
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: // PROTO
                    int protocol = ReadByte();
                    if (protocol is < 2 or > 5)
                        throw Fail($"expected pickle protocol 2 to 5 (what torch.save writes), found protocol {protocol}");
                    break;
                case 0x95: // FRAME: a length prefix for buffering; the opcodes inside are read like any others
                    ReadLength(8);
                    break;
                case (byte)'.': // STOP
                    return Pop();
                case (byte)'}': // EMPTY_DICT
                    Push(new PickleDict());
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(new PickleList());
                    break;
                case (byte)')': // EMPTY_TUPLE
                    Push(new PickleTuple([]));
                    break;
                case 0x8f: // EMPTY_SET
                    Push(new PickleSet());
                    break;
                case (byte)'(': // MARK
                    _marks.Push(_stack);
                    _stack = [];
                    break;
                case (byte)'t': // TUPLE
                    Push(new PickleTuple(PopMark().ToArray()));
                    break;
                case 0x85: // TUPLE1
                    Push(new PickleTuple(PopMany(1)));
                    break;
                case 0x86: // TUPLE2
                    Push(new PickleTuple(PopMany(2)));
                    break;
                case 0x87: // TUPLE3
                    Push(new PickleTuple(PopMany(3)));
                    break;
                case (byte)'0': // POP
                    Pop();
                    break;
                case (byte)'1': // POP_MARK
                    PopMark();
                    break;
                case (byte)'2': // DUP
                    Push(Peek());
                    break;
                case (byte)'q': // BINPUT
                    _memo[ReadByte()] = Peek();
                    break;
                case (byte)'r': // LONG_BINPUT
                    _memo[ReadUInt32()] = Peek();
                    break;
                case 0x94: // MEMOIZE
                    _memo[_memo.Count] = Peek();
                    break;
                case (byte)'h': // BINGET
                    Push(Memo(ReadByte()));
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(Memo(ReadUInt32()));
                    break;
                case (byte)'J': // BININT: signed 32-bit
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4)));
                    break;
                case (byte)'K': // BININT1: unsigned 8-bit
                    Push((long)ReadByte());
                    break;
                case (byte)'M': // BININT2: unsigned 16-bit
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2)));
                    break;
                case 0x8a: // LONG1: two's-complement little-endian, length in one byte
                    Push(DecodeLong(Take(ReadByte())));
                    break;
                case 0x8b: // LONG4: the same, length in four (signed) bytes
                    int longBytes = ReadLength(4);
                    if (longBytes > MaxIntegerBytes)
                        throw Fail($"expected an integer of at most {MaxIntegerBytes} bytes, found one of {longBytes} bytes");
                    Push(DecodeLong(Take(longBytes)));
                    break;
                case (byte)'G': // BINFLOAT: big-endian IEEE double
                    Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8)));
                    break;
                case (byte)'N': // NONE
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(Text(Take(ReadByte())));
                    break;
                case (byte)'X': // BINUNICODE
                    Push(Text(Take(ReadLength(4))));
                    break;
                case 0x8d: // BINUNICODE8
                    Push(Text(Take(ReadLength(8))));
                    break;
                case (byte)'U': // SHORT_BINSTRING: a Python 2 str, decoded as torch.load does (UTF-8)
                    Push(Text(Take(ReadByte())));
                    break;
                case (byte)'T': // BINSTRING
                    Push(Text(Take(ReadLength(4))));
                    break;
                case (byte)'C': // SHORT_BINBYTES
                    Push(Take(ReadByte()).ToArray());
                    break;
                case (byte)'B': // BINBYTES
                    Push(Take(ReadLength(4)).ToArray());
                    break;
                case 0x8e: // BINBYTES8
                    Push(Take(ReadLength(8)).ToArray());
                    break;
                case 0x96: // BYTEARRAY8
                    Push(Take(ReadLength(8)).ToArray());
                    break;
                case (byte)'c': // GLOBAL: "module\nname\n"
                    string module = Text(Line());
                    Push(Resolve(module, Text(Line())));
                    break;
                case 0x93: // STACK_GLOBAL
                    object? name = Pop(), from = Pop();
                    if (from is not string m || name is not string n)
                        throw Fail($"expected STACK_GLOBAL to find a module and a name (two strings), found {Describe(from)} and {Describe(name)}");
                    Push(Resolve(m, n));
                    break;
                case (byte)'R': // REDUCE
                    var args = Pop();
                    var callable = Pop();
                    Push(Reduce(callable, args));
                    break;
                case 0x81: // NEWOBJ
                    var newArgs = Pop();
                    Push(NewObject(Pop(), newArgs));
                    break;
                case 0x92: // NEWOBJ_EX
                    Pop(); // kwargs: none of the allowed types takes any
                    var exArgs = Pop();
                    Push(NewObject(Pop(), exArgs));
                    break;
                case (byte)'b': // BUILD: the state (attributes) is dropped once the object is known to take it
                    Pop();
                    CheckBuild(Peek());
                    break;
                case (byte)'Q': // BINPERSID
                    Push(PersistentLoad(Pop()));
                    break;
                case (byte)'s': // SETITEM
                    var value = Pop();
                    var key = Pop();
                    DictOnTop("SETITEM").Set(key, value);
                    break;
                case (byte)'u': // SETITEMS
                    var pairs = PopMark();
                    if (pairs.Count % 2 != 0)
                        throw Fail($"expected SETITEMS to find key/value pairs, found {pairs.Count} items");
                    var dict = DictOnTop("SETITEMS");
                    for (int i = 0; i < pairs.Count; i += 2)
                        dict.Set(pairs[i], pairs[i + 1]);
                    break;
                case (byte)'a': // APPEND
                    var item = Pop();
                    ListOnTop("APPEND").Add(item);
                    break;
                case (byte)'e': // APPENDS
                    var items = PopMark();
                    ListOnTop("APPENDS").AddRange(items);
                    break;
                case 0x90: // ADDITEMS
                    var setItems = PopMark();
                    if (Peek() is not PickleSet set)
                        throw Fail($"expected ADDITEMS to add to a set, found {Describe(Peek())}");
                    set.Items.AddRange(setItems);
                    break;
                case 0x91: // FROZENSET
                    var frozen = new PickleSet();
                    frozen.Items.AddRange(PopMark());
                    Push(frozen);
                    break;
                default:
                    throw Fail(OpcodeNames.TryGetValue(op, out string? known)
                        ? $"pickle opcode {known} (0x{op:X2}) is not supported: torch.save does not write it"
                        : $"unknown pickle opcode 0x{op:X2}: expected one of the opcodes of pickle protocols 2 to 5");
            }
        }
    }

    /// <summary>Opcodes of CPython's pickle that torch.save never writes, named for the message that refuses them.</summary>
    private static readonly Dictionary<byte, string> OpcodeNames = new()
    {
        [(byte)'I'] = "INT", [(byte)'L'] = "LONG", [(byte)'F'] = "FLOAT", [(byte)'S'] = "STRING", [(byte)'V'] = "UNICODE",
        [(byte)'P'] = "PERSID", [(byte)'g'] = "GET", [(byte)'p'] = "PUT", [(byte)'d'] = "DICT", [(byte)'l'] = "LIST",
        [(byte)'i'] = "INST", [(byte)'o'] = "OBJ", [0x82] = "EXT1", [0x83] = "EXT2", [0x84] = "EXT4",
        [0x97] = "NEXT_BUFFER", [0x98] = "READONLY_BUFFER",
    };

    private PickleGlobal Resolve(string module, string name)
    {
        // Protocol 2 writes Python 2 module names (pickle's fix_imports); torch.load maps 'torch.tensor' likewise.
        module = module switch
        {
            "__builtin__" => "builtins",
            "copy_reg" => "copyreg",
            "torch.tensor" => "torch._tensor",
            _ => module,
        };
        string full = $"{module}.{name}";
        if (!Allowed.TryGetValue(full, out TorchGlobal kind))
        {
            // torch.save(model) pickles the module object itself, by its class: the most common file of this kind.
            string hint = module.StartsWith("torch.nn.modules.", StringComparison.Ordinal)
                ? "; this is a whole nn.Module saved with torch.save(model): save model.state_dict() instead"
                : "";
            throw Fail($"global '{full}' is not allowed: {OnlyData}{hint}");
        }
        return new PickleGlobal(module, name, kind);
    }

    private object? Reduce(object? callable, object? arguments)
    {
        if (callable is not PickleGlobal function)
            throw Fail($"expected REDUCE to call an allowed function, found {Describe(callable)}");
        if (arguments is not PickleTuple tuple)
            throw Fail($"expected REDUCE to pass a tuple of arguments to {function.FullName}, found {Describe(arguments)}");
        return Apply(function, tuple.Items);
    }

    private object? Apply(PickleGlobal function, IReadOnlyList<object?> args)
    {
        switch (function.Kind)
        {
            case TorchGlobal.OrderedDict when args.Count == 0:
                return new PickleDict();
            case TorchGlobal.RebuildTensorV2 when args.Count is 6 or 7:
            case TorchGlobal.RebuildTensor when args.Count == 4:
                // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]]): torch/_utils.py.
                // requires_grad, the always-empty hooks and the metadata do not change the values.
                return TensorRef(function, args);
            case TorchGlobal.RebuildParameter when args.Count == 3:
            case TorchGlobal.RebuildParameterWithState when args.Count == 4:
                // (data, requires_grad, backward_hooks[, state]): a Parameter is its data; its Python attributes are dropped.
                return TensorArgument(function, args[0]);
            case TorchGlobal.RebuildFromCpuTensor when args.Count == 4:
                // (cpu_tensor, dtype, device, requires_grad): an XLA-like device's tensor, saved through a CPU copy.
                return TensorArgument(function, args[0]);
            case TorchGlobal.RebuildFromTypeV2 when args.Count == 4:
                // (func, new_type, args, state): torch/_tensor.py, for a Tensor or Parameter with Python attributes.
                if (args[0] is not PickleGlobal inner || inner.Kind == TorchGlobal.RebuildFromTypeV2 || args[2] is not PickleTuple innerArgs)
                    throw Fail($"expected {function.FullName} to find a rebuild function and its arguments, found {Describe(args[0])} and {Describe(args[2])}");
                if (args[1] is not PickleGlobal { Kind: TorchGlobal.TensorType })
                    throw Fail($"expected {function.FullName} to rebuild a torch.Tensor or Parameter, found {Describe(args[1])}");
                return Apply(inner, innerArgs.Items);
            case TorchGlobal.UnsupportedTensorRebuild:
                string what = UnsupportedRebuilds[function.Name];
                // _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype[, metadata]).
                if (function.Name == "_rebuild_tensor_v3" && args.Count >= 7 && args[6] is PickleGlobal { Kind: TorchGlobal.Name } dtype)
                    what = $"a tensor of dtype {dtype.Name}";
                else if (args.Count > 0 && args[0] is TorchStorageRef storage)
                    what += $" of {storage.Type.DType}";
                return new UnsupportedTensor($"{what} ({function.FullName})");
            case TorchGlobal.Device when args.Count == 1 && args[0] is string device:
                return new PickleText(device);
            case TorchGlobal.Device when args.Count == 2 && args[0] is string type && args[1] is long index:
                return new PickleText($"{type}:{index.ToString(CultureInfo.InvariantCulture)}");
            case TorchGlobal.Size when args.Count == 1 && args[0] is PickleTuple sizes:
                return sizes;
            case TorchGlobal.GetLayout when args.Count == 1 && args[0] is string layout:
                return new PickleText(layout);
            case TorchGlobal.CodecsEncode when args.Count == 2 && args[0] is string text && args[1] is "latin1" or "latin-1":
                // How protocol 2 writes Python 3 bytes: the text of the bytes as code points 0–255.
                if (text.Any(c => c > 0xFF))
                    throw Fail($"expected _codecs.encode to encode Latin-1 text, found a character above U+00FF");
                return Encoding.Latin1.GetBytes(text);
            case TorchGlobal.Set or TorchGlobal.FrozenSet when args.Count == 0:
                return new PickleSet();
            case TorchGlobal.Set or TorchGlobal.FrozenSet when args.Count == 1 && args[0] is PickleList list:
                var set = new PickleSet();
                set.Items.AddRange(list.Items);
                return set;
            case TorchGlobal.ByteArray when args.Count == 0:
                return Array.Empty<byte>();
            case TorchGlobal.ByteArray when args.Count == 1 && args[0] is byte[] bytes:
                return bytes;
            case TorchGlobal.Complex when args.Count == 2 && args[0] is double re && args[1] is double im:
                return new PickleText(PickleFormat.Complex(re, im));
            default:
                throw Fail($"expected a call of {function.FullName} as torch.save writes it, found {args.Count} arguments ({string.Join(", ", args.Select(Describe))})");
        }
    }

    private TorchTensorRef TensorRef(PickleGlobal function, IReadOnlyList<object?> args)
    {
        if (args[0] is not TorchStorageRef storage)
            throw Fail($"expected {function.FullName} to find a storage first, found {Describe(args[0])}");
        if (args[1] is not long offset || offset < 0)
            throw Fail($"expected {function.FullName} to find a storage offset ≥ 0, found {Describe(args[1])}");
        long[] size = Longs(args[2], function, "size");
        long[] stride = Longs(args[3], function, "stride");
        if (size.Length != stride.Length)
            throw Fail($"expected {function.FullName} to find as many strides as sizes, found size ({string.Join(", ", size)}) and stride ({string.Join(", ", stride)})");
        if (size.Any(s => s < 0) || stride.Any(s => s < 0))
            throw Fail($"expected sizes and strides ≥ 0, found size ({string.Join(", ", size)}) and stride ({string.Join(", ", stride)})");
        return new TorchTensorRef(storage, offset, size, stride);
    }

    private object TensorArgument(PickleGlobal function, object? data) => data switch
    {
        TorchTensorRef or UnsupportedTensor => data,
        _ => throw Fail($"expected {function.FullName} to wrap a tensor, found {Describe(data)}"),
    };

    private long[] Longs(object? value, PickleGlobal function, string what)
    {
        if (value is PickleTuple tuple && tuple.Items.All(i => i is long))
            return tuple.Items.Select(i => (long)i!).ToArray();
        throw Fail($"expected {function.FullName} to find a {what} tuple of integers, found {Describe(value)}");
    }

    private object NewObject(object? type, object? arguments)
    {
        if (arguments is not PickleTuple { Items.Count: 0 })
            throw Fail($"expected no constructor arguments for {Describe(type)}, found {Describe(arguments)}");
        return type switch
        {
            PickleGlobal { Kind: TorchGlobal.OrderedDict } => new PickleDict(),
            PickleGlobal { Kind: TorchGlobal.Set or TorchGlobal.FrozenSet } => new PickleSet(),
            _ => throw Fail($"constructing {Describe(type)} is not allowed: {OnlyData}"),
        };
    }

    private void CheckBuild(object? instance)
    {
        // BUILD sets attributes: on an OrderedDict state_dict it is `_metadata` (module versions), on a legacy tensor
        // its requires_grad. Neither holds values to read; anything else would need the object's own code.
        if (instance is not (PickleDict or TorchTensorRef or UnsupportedTensor))
            throw Fail($"BUILD on {Describe(instance)} is not allowed: {OnlyData}");
    }

    private TorchStorageRef PersistentLoad(object? pid)
    {
        // torch/serialization.py _save: persistent_id returns ('storage', storage_type, key, location, numel),
        // numel counted in elements of storage_type; _load reads the record data/<key>.
        if (pid is not PickleTuple { Items: [string kind, var type, var key, var location, var count] } || kind != "storage")
            throw Fail($"expected a persistent id ('storage', type, key, location, numel), found {Describe(pid)}");
        if (type is not PickleGlobal { Kind: TorchGlobal.StorageType } storageType)
            throw Fail($"expected a storage type in the persistent id, found {Describe(type)}");
        if (key is not string k || location is not string where || count is not long n || n < 0)
            throw Fail($"expected a persistent id ('storage', type, key: str, location: str, numel ≥ 0), found {Describe(pid)}");
        TorchStorageType t = TorchStorageType.All[storageType.Name];
        if (_storages.TryGetValue(k, out TorchStorageRef? seen))
        {
            if (seen.Type != t)
                throw Fail($"storage '{k}' is declared as both {seen.Type.Name} and {t.Name}");
            return seen;
        }

        var storage = new TorchStorageRef(k, t, where, n);
        _storages[k] = storage;
        return storage;
    }

    private PickleDict DictOnTop(string opcode) =>
        Peek() as PickleDict ?? throw Fail($"expected {opcode} to set items of a dict, found {Describe(Peek())}");

    private List<object?> ListOnTop(string opcode) =>
        (Peek() as PickleList)?.Items ?? throw Fail($"expected {opcode} to add to a list, found {Describe(Peek())}");

    private void Push(object? value) => _stack.Add(value);

    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw Fail("malformed pickle: an opcode needs a value, the stack is empty");

    private object? Pop()
    {
        object? value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object?[] PopMany(int count)
    {
        if (_stack.Count < count)
            throw Fail($"malformed pickle: an opcode needs {count} values, the stack holds {_stack.Count}");
        object?[] items = _stack.GetRange(_stack.Count - count, count).ToArray();
        _stack.RemoveRange(_stack.Count - count, count);
        return items;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0)
            throw Fail("malformed pickle: an opcode needs a MARK, none is open");
        List<object?> items = _stack;
        _stack = _marks.Pop();
        return items;
    }

    private object? Memo(long index) =>
        _memo.TryGetValue(index, out object? value) ? value : throw Fail($"malformed pickle: memo entry {index} is read before it is written");

    private byte ReadByte() => Take(1)[0];

    private uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    /// <summary>Reads a little-endian length of 4 (signed, as LONG4/BINSTRING) or 8 bytes and checks that many bytes follow.</summary>
    private int ReadLength(int width)
    {
        long length = width == 4
            ? BinaryPrimitives.ReadInt32LittleEndian(Take(4))
            : (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)), (ulong)long.MaxValue);
        if (length < 0 || length > _data.Length - _pos)
            throw Truncated(length);
        return (int)length;
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _pos)
            throw Truncated(count);
        var span = new ReadOnlySpan<byte>(_data, _pos, count);
        _pos += count;
        return span;
    }

    private ReadOnlySpan<byte> Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0)
            throw Fail($"the pickle is truncated: GLOBAL expects a newline-terminated name, the data ends at byte {_data.Length}");
        var line = new ReadOnlySpan<byte>(_data, _pos, end - _pos);
        _pos = end + 1;
        return line;
    }

    private string Text(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw Fail($"expected UTF-8 text, found invalid bytes ({e.Message})");
        }
    }

    private static object DecodeLong(ReadOnlySpan<byte> bytes)
    {
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    private InvalidDataException Truncated(long needed) =>
        Fail($"the pickle is truncated: the opcode needs {needed} more bytes, {_data.Length - _pos} remain");

    private InvalidDataException Fail(string what) =>
        new($"{_source}: {what} (pickle opcode at byte {_opcodeAt}).");

    /// <summary>A short description of a value for messages: its Python type and, for scalars, the value.</summary>
    internal static string Describe(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long or BigInteger => "int " + Convert.ToString(value, CultureInfo.InvariantCulture),
        double d => $"float {PickleFormat.Float(d, pythonStyle: true)}",
        string s => $"str '{(s.Length > 40 ? s[..40] + "…" : s)}'",
        byte[] b => $"bytes of length {b.Length}",
        PickleTuple t => $"a tuple of {t.Items.Count}",
        PickleList l => $"a list of {l.Items.Count}",
        PickleSet s => $"a set of {s.Items.Count}",
        PickleDict d => $"a dict of {d.Items.Count}",
        PickleGlobal g => g.FullName,
        PickleText t => t.Text,
        TorchStorageRef s => $"storage '{s.Key}' ({s.Type.Name})",
        TorchTensorRef => "a tensor",
        UnsupportedTensor u => u.What,
        _ => value.GetType().Name,
    };
}

/// <summary>How the reader writes a pickled scalar as text: as Python's <c>repr</c> would, for the usual values.</summary>
internal static class PickleFormat
{
    /// <summary>
    /// A float as Python's <c>repr</c> writes it: the shortest digits that read back to the same value, in positional
    /// notation when the decimal exponent is in [−4, 16) and as <c>1.5e+16</c> / <c>1e-05</c> otherwise (.NET's "R"
    /// switches to exponents from 1E+15 on, Python only from 1e+16); with <paramref name="pythonStyle"/> an integral
    /// positional value also gets <c>.0</c> (<c>3.0</c>), as a float's repr does and a complex part's does not.
    /// </summary>
    public static string Float(double value, bool pythonStyle)
    {
        if (double.IsNaN(value))
            return "nan";
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        // "E16" would print 17 digits; "R" gives the shortest round-trip digits, which are Python's too.
        string r = value.ToString("R", CultureInfo.InvariantCulture);
        string sign = r.StartsWith('-') ? "-" : "";
        string body = sign.Length == 0 ? r : r[1..];
        int e = body.IndexOf('E');
        string mantissa = e < 0 ? body : body[..e];
        int exponent = e < 0 ? 0 : int.Parse(body[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int dot = mantissa.IndexOf('.');
        string allDigits = dot < 0 ? mantissa : mantissa[..dot] + mantissa[(dot + 1)..];
        int pointAt = (dot < 0 ? mantissa.Length : dot) + exponent;   // the decimal point sits after this many of allDigits
        string digits = allDigits.TrimStart('0');
        pointAt -= allDigits.Length - digits.Length;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
        {
            return sign + (pythonStyle ? "0.0" : "0");
        }

        int decimalExponent = pointAt - 1;   // of the first significant digit: 1.5e+16 → 16
        if (decimalExponent is < -4 or >= 16)
        {
            string fraction = digits.Length > 1 ? "." + digits[1..] : "";
            string exponentText = (decimalExponent < 0 ? "-" : "+") + Math.Abs(decimalExponent).ToString("00", CultureInfo.InvariantCulture);
            return $"{sign}{digits[0]}{fraction}e{exponentText}";
        }

        string text = pointAt <= 0
            ? "0." + new string('0', -pointAt) + digits
            : pointAt >= digits.Length
                ? digits + new string('0', pointAt - digits.Length) + (pythonStyle ? ".0" : "")
                : digits[..pointAt] + "." + digits[pointAt..];
        return sign + text;
    }

    /// <summary>A complex number as Python's <c>repr</c>: <c>(1.5-2j)</c>, and <c>2j</c> when the real part is +0.</summary>
    public static string Complex(double re, double im)
    {
        string imaginary = Float(im, pythonStyle: false) + "j";
        if (re == 0 && !double.IsNegative(re))
            return imaginary;
        return $"({Float(re, pythonStyle: false)}{(imaginary.StartsWith('-') ? "" : "+")}{imaginary})";
    }

    /// <summary>A byte string as Python's <c>repr</c>: <c>b'ab\x00'</c>.</summary>
    public static string Bytes(byte[] bytes)
    {
        var text = new StringBuilder("b'");
        foreach (byte b in bytes)
        {
            text.Append(b switch
            {
                (byte)'\\' => @"\\",
                (byte)'\'' => @"\'",
                (byte)'\t' => @"\t",
                (byte)'\n' => @"\n",
                (byte)'\r' => @"\r",
                >= 0x20 and < 0x7F => ((char)b).ToString(),
                _ => $"\\x{b:x2}",
            });
        }

        return text.Append('\'').ToString();
    }
}
