using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Dls.Models.Checkpoints;

namespace Dls.Models.Tests.Checkpoints;

/// <summary>The unpickler on hand-made byte sequences; opcode bytes as in CPython's Lib/pickle.py.</summary>
public sealed class TorchPickleTests
{
    private const string Source = "test.pkl";

    /// <summary>Every expected text is what CPython 3.11's <c>repr(float)</c> prints for the value (<c>python3 -c "print(repr(1e15))"</c>).</summary>
    [Theory]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1.5e15, "1500000000000000.0")]
    [InlineData(9999999999999998.0, "9999999999999998.0")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1.2345678901234567e16, "1.2345678901234568e+16")]
    [InlineData(1e22, "1e+22")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(-2.5e-7, "-2.5e-07")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00012345, "0.00012345")]
    [InlineData(0.1, "0.1")]
    [InlineData(12345678.9, "12345678.9")]
    [InlineData(123.0, "123.0")]
    [InlineData(3.0, "3.0")]
    [InlineData(0.0, "0.0")]
    [InlineData(-0.0, "-0.0")]
    public void FloatText_AsPythonRepr(double value, string python)
    {
        Assert.Equal(python, PickleFormat.Float(value, pythonStyle: true));
    }

    [Theory]
    [InlineData(1e15, "1000000000000000")]
    [InlineData(123.0, "123")]
    [InlineData(1e16, "1e+16")]
    [InlineData(-0.0, "-0")]
    public void FloatText_ComplexPart_HasNoPointZero(double value, string python)
    {
        // What repr(complex(value, 1)) prints for the real part: the same digits without a float's ".0".
        Assert.Equal(python, PickleFormat.Float(value, pythonStyle: false));
    }

    [Theory]
    [InlineData(1.5, -2.0, "(1.5-2j)")]
    [InlineData(1e16, 1.0, "(1e+16+1j)")]
    [InlineData(0.0, 2.5, "2.5j")]
    [InlineData(-0.0, 1.0, "(-0+1j)")]
    [InlineData(1.0, -0.0, "(1-0j)")]
    [InlineData(1.0, double.NaN, "(1+nanj)")]
    [InlineData(1.0, double.NegativeInfinity, "(1-infj)")]
    public void ComplexText_AsPythonRepr(double re, double im, string python)
    {
        // Each expected text is CPython 3.11's repr(complex(re, im)).
        Assert.Equal(python, PickleFormat.Complex(re, im));
    }

    [Fact]
    public void Load_Protocol2Scalars_ReadsEachIntegerFloatAndConstantOpcode()
    {
        byte[] data = new Pickle().Proto(2).Op('}').Op('(')
            .Str("int1").Op('K', 200)
            .Str("int2").Op('M').U16(300)
            .Str("int4").Op('J').I32(-7)
            .Str("long1").Op(0x8a, 6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01)             // 2^40
            .Str("huge").Op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1)                        // 2^64
            .Str("neg").Op(0x8a, 1, 0xff)                                              // -1
            .Str("long4").Op(0x8b).I32(2).Op(0x00, 0x80)                               // -32768
            .Str("float").Op('G').F64(0.5)
            .Str("none").Op('N')
            .Str("yes").Op(0x88)
            .Str("no").Op(0x89)
            .Op('u').Op('.').Build();

        var dict = Assert.IsType<PickleDict>(TorchPickle.Load(data, Source));

        var items = dict.Items.ToDictionary(p => (string)p.Key!, p => p.Value);
        Assert.Equal(200L, items["int1"]);
        Assert.Equal(300L, items["int2"]);
        Assert.Equal(-7L, items["int4"]);
        Assert.Equal(1L << 40, items["long1"]);
        Assert.Equal(BigInteger.Pow(2, 64), items["huge"]);
        Assert.Equal(-1L, items["neg"]);
        Assert.Equal(-32768L, items["long4"]);
        Assert.Equal(0.5, items["float"]);
        Assert.Null(items["none"]);
        Assert.Equal(true, items["yes"]);
        Assert.Equal(false, items["no"]);
    }

    [Fact]
    public void Load_StringAndBytesOpcodes_DecodeUtf8AndKeepBytes()
    {
        byte[] data = new Pickle().Proto(4).Op(']').Op('(')
            .Op('X').Text32("grüße")
            .ShortStr("short")
            .Op(0x8d).U64(3).Ascii("six")
            .Op('C', 2, 0x00, 0xff)
            .Op('B').I32(1).Op(0x41)
            .Op(0x8e).U64(1).Op(0x42)
            .Op(0x96).U64(1).Op(0x43)
            .Op('U', 2).Ascii("py")
            .Op('e').Op('.').Build();

        var list = Assert.IsType<PickleList>(TorchPickle.Load(data, Source));

        Assert.Equal("grüße", list.Items[0]);
        Assert.Equal("short", list.Items[1]);
        Assert.Equal("six", list.Items[2]);
        Assert.Equal(new byte[] { 0x00, 0xff }, list.Items[3]);
        Assert.Equal(new byte[] { 0x41 }, list.Items[4]);
        Assert.Equal(new byte[] { 0x42 }, list.Items[5]);
        Assert.Equal(new byte[] { 0x43 }, list.Items[6]);
        Assert.Equal("py", list.Items[7]);
    }

    [Fact]
    public void Load_TupleOpcodes_BuildTuplesOfEachSize()
    {
        byte[] data = new Pickle().Proto(2).Op('(')
            .Op(')')
            .Op('K', 1).Op(0x85)
            .Op('K', 1).Op('K', 2).Op(0x86)
            .Op('K', 1).Op('K', 2).Op('K', 3).Op(0x87)
            .Op('(').Op('K', 1).Op('K', 2).Op('K', 3).Op('K', 4).Op('t')
            .Op('t').Op('.').Build();

        var outer = Assert.IsType<PickleTuple>(TorchPickle.Load(data, Source));

        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, outer.Items.Select(t => ((PickleTuple)t!).Items.Count));
        Assert.Equal(Objects(1L, 2L, 3L, 4L), ((PickleTuple)outer.Items[4]!).Items);
    }

    [Fact]
    public void Load_ListAndSetOpcodes_AppendAndAddItems()
    {
        byte[] data = new Pickle().Proto(4).Op(']')
            .Op(']').Op('K', 1).Op('a').Op('(').Op('K', 2).Op('K', 3).Op('e').Op('a')
            .Op(0x8f).Op('(').Op('K', 4).Op(0x90).Op('a')
            .Op('(').Op('K', 5).Op(0x91).Op('a')
            .Op('.').Build();

        var list = Assert.IsType<PickleList>(TorchPickle.Load(data, Source));

        Assert.Equal(Objects(1L, 2L, 3L), Assert.IsType<PickleList>(list.Items[0]).Items);
        Assert.Equal(Objects(4L), Assert.IsType<PickleSet>(list.Items[1]).Items);
        Assert.Equal(Objects(5L), Assert.IsType<PickleSet>(list.Items[2]).Items);
    }

    [Fact]
    public void Load_StackOpcodes_PopPopMarkAndDup()
    {
        byte[] data = new Pickle().Proto(2).Op('K', 9).Op('0').Op('(').Op('K', 8).Op('1').Op('K', 7).Op('2').Op(0x86).Op('.').Build();

        var pair = Assert.IsType<PickleTuple>(TorchPickle.Load(data, Source));

        Assert.Equal(Objects(7L, 7L), pair.Items);
    }

    [Fact]
    public void Load_MemoPutAndGet_ReturnsTheSameObjectEachTime()
    {
        // BINPUT/BINGET (1-byte index), LONG_BINPUT/LONG_BINGET (4-byte), MEMOIZE (next index): one list, three references.
        byte[] data = new Pickle().Proto(4).Op('(')
            .Op(']').Op('q', 5)
            .Op('h', 5)
            .Op('r').I32(70000)
            .Op('j').I32(70000)
            .Op(0x94)           // MEMOIZE stores at index memo.Count = 2
            .Op('h', 2)
            .Op('t').Op('.').Build();

        var tuple = Assert.IsType<PickleTuple>(TorchPickle.Load(data, Source));

        Assert.Equal(4, tuple.Items.Count);
        Assert.All(tuple.Items, item => Assert.Same(tuple.Items[0], item));
    }

    [Fact]
    public void Load_StateDictOfProtocol4_ReadsOrderedDictAndTensorView()
    {
        // What torch.save(state_dict, pickle_protocol=4) writes, reduced to one tensor: FRAME, STACK_GLOBAL, MEMOIZE.
        var body = new Pickle()
            .ShortStr("collections").ShortStr("OrderedDict").Op(0x93).Op(0x94).Op(')').Op('R').Op(0x94)
            .Op('(').ShortStr("fc.weight")
            .ShortStr("torch._utils").ShortStr("_rebuild_tensor_v2").Op(0x93)
            .Op('(')
            .Op('(').ShortStr("storage").ShortStr("torch").ShortStr("FloatStorage").Op(0x93).ShortStr("0").ShortStr("cpu").Op('K', 12).Op('t').Op('Q')
            .Op('K', 2).Op('K', 2).Op('K', 3).Op(0x86).Op('K', 1).Op('K', 2).Op(0x86).Op(0x89)
            .ShortStr("collections").ShortStr("OrderedDict").Op(0x93).Op(')').Op('R')
            .Op('t').Op('R')
            .Op('u')
            .Op('}').ShortStr("_metadata").Op('}').Op('s').Op('b')   // BUILD: the state dict's _metadata attribute
            .Op('.').Build();
        byte[] data = new Pickle().Proto(4).Op(0x95).U64((ulong)body.Length).Raw(body).Build();

        var dict = Assert.IsType<PickleDict>(TorchPickle.Load(data, Source));

        var (key, value) = Assert.Single(dict.Items);
        Assert.Equal("fc.weight", key);
        var tensor = Assert.IsType<TorchTensorRef>(value);
        Assert.Equal("0", tensor.Storage.Key);
        Assert.Equal("FloatStorage", tensor.Storage.Type.Name);
        Assert.Equal("cpu", tensor.Storage.Location);
        Assert.Equal(12, tensor.Storage.Count);
        Assert.Equal(2, tensor.Offset);
        Assert.Equal(new[] { 2L, 3L }, tensor.Size);
        Assert.Equal(new[] { 1L, 2L }, tensor.Stride);
    }

    [Theory]
    [InlineData("_rebuild_parameter")]
    [InlineData("_rebuild_parameter_with_state")]
    public void Load_Parameter_ReturnsItsTensor(string function)
    {
        var p = new Pickle().Proto(2).Global("torch._utils", function).Op('(');
        TensorV2(p, "0", 4);
        p.Op(0x88).Global("collections", "OrderedDict").Op(')').Op('R');
        if (function.EndsWith("_state", StringComparison.Ordinal))
            p.Op('}');
        byte[] data = p.Op('t').Op('R').Op('.').Build();

        var tensor = Assert.IsType<TorchTensorRef>(TorchPickle.Load(data, Source));

        Assert.Equal(new[] { 4L }, tensor.Size);
    }

    [Fact]
    public void Load_RebuildFromTypeV2_RebuildsTheTensorInside()
    {
        // A Tensor with Python attributes (PyTorch ≥ 2.0): _rebuild_from_type_v2(func, torch.Tensor, args, state).
        var p = new Pickle().Proto(2).Global("torch._tensor", "_rebuild_from_type_v2").Op('(')
            .Global("torch._utils", "_rebuild_tensor_v2").Global("torch", "Tensor").Op('(');
        TensorArguments(p, "3", 5, offset: 1);
        byte[] data = p.Op(0x89).Op('}').Op('t').Op('}').Op('t').Op('R').Op('.').Build();

        var tensor = Assert.IsType<TorchTensorRef>(TorchPickle.Load(data, Source));

        Assert.Equal("3", tensor.Storage.Key);
        Assert.Equal(1, tensor.Offset);
    }

    [Fact]
    public void Load_AllowedValueGlobals_BecomeTextBytesAndContainers()
    {
        byte[] data = new Pickle().Proto(2).Op('(')
            .Global("torch", "device").Str("cuda").Op('K', 1).Op(0x86).Op('R')
            .Global("torch", "device").Str("cpu").Op(0x85).Op('R')
            .Global("torch", "Size").Op('K', 2).Op('K', 3).Op(0x86).Op(0x85).Op('R')
            .Global("torch", "float32")
            .Global("_codecs", "encode").Str("a\u00ff").Str("latin1").Op(0x86).Op('R')
            .Global("__builtin__", "set").Op(']').Op('K', 1).Op('a').Op(0x85).Op('R')
            .Op('t').Op('.').Build();

        var items = Assert.IsType<PickleTuple>(TorchPickle.Load(data, Source)).Items;

        Assert.Equal("cuda:1", Assert.IsType<PickleText>(items[0]).Text);
        Assert.Equal("cpu", Assert.IsType<PickleText>(items[1]).Text);
        Assert.Equal(Objects(2L, 3L), Assert.IsType<PickleTuple>(items[2]).Items);
        Assert.Equal("torch.float32", Assert.IsType<PickleGlobal>(items[3]).FullName);
        Assert.Equal(new byte[] { 0x61, 0xff }, items[4]);
        Assert.Equal(Objects(1L), Assert.IsType<PickleSet>(items[5]).Items);
    }

    [Theory]
    [InlineData("os", "system", "os.system")]
    [InlineData("__builtin__", "eval", "builtins.eval")]
    [InlineData("__main__", "Config", "__main__.Config")]
    [InlineData("torch", "load", "torch.load")]
    public void Load_DisallowedGlobal_ThrowsNamingIt(string module, string name, string shown)
    {
        byte[] data = new Pickle().Proto(2).Global(module, name).Op(')').Op('R').Op('.').Build();

        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data, Source));

        Assert.Contains($"global '{shown}' is not allowed", e.Message);
        Assert.Contains(TorchPickle.OnlyData, e.Message);
        Assert.Contains(Source, e.Message);
        Assert.Contains("byte 2", e.Message);
    }

    [Fact]
    public void Load_DisallowedStackGlobal_ThrowsNamingIt()
    {
        byte[] data = new Pickle().Proto(4).ShortStr("subprocess").ShortStr("Popen").Op(0x93).Op('.').Build();

        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data, Source));

        Assert.Contains("global 'subprocess.Popen' is not allowed", e.Message);
    }

    [Fact]
    public void Load_UnknownOpcode_ThrowsNamingByteAndOffset()
    {
        byte[] data = new Pickle().Proto(2).Op('K', 1).Op(0xfe).Op('.').Build();

        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data, Source));

        Assert.Contains("unknown pickle opcode 0xFE", e.Message);
        Assert.Contains("byte 4", e.Message);
        Assert.Contains(Source, e.Message);
    }

    [Theory]
    [InlineData((byte)'i', "INST")]
    [InlineData((byte)'o', "OBJ")]
    [InlineData((byte)0x82, "EXT1")]
    [InlineData((byte)0x97, "NEXT_BUFFER")]
    public void Load_OpcodeTorchSaveNeverWrites_ThrowsNamingIt(byte opcode, string name)
    {
        byte[] data = new Pickle().Proto(2).Op(opcode).Op('.').Build();

        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data, Source));

        Assert.Contains($"pickle opcode {name} (0x{opcode:X2}) is not supported", e.Message);
    }

    [Fact]
    public void Load_ProtocolAboveFive_Throws()
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load([0x80, 6, (byte)'N', (byte)'.'], Source));

        Assert.Contains("expected pickle protocol 2 to 5", e.Message);
        Assert.Contains("found protocol 6", e.Message);
    }

    [Fact]
    public void Load_EveryTruncation_ThrowsInvalidData()
    {
        byte[] data = StateDictPickle();
        Assert.IsType<PickleDict>(TorchPickle.Load(data, Source));

        for (int length = 0; length < data.Length; length++)
        {
            var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data[..length], Source));
            Assert.Contains(Source, e.Message);
        }

        var cut = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data[..^1], Source));
        Assert.Contains("truncated", cut.Message);
    }

    [Fact]
    public void Load_LengthBeyondTheData_ThrowsTruncatedWithoutAllocating()
    {
        // BINUNICODE8 claiming 2^62 bytes: refused from the length alone.
        byte[] data = new Pickle().Proto(4).Op(0x8d).U64(1UL << 62).Build();

        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data, Source));

        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Load_EverySingleByteChange_ReadsOrThrowsInvalidDataOnly()
    {
        // The reader's only failure is InvalidDataException, whatever a corrupt file holds.
        byte[] data = StateDictPickle();
        byte[] replacements = [0x00, 0x01, 0x28, 0x2e, 0x4b, 0x51, 0x52, 0x62, 0x68, 0x71, 0x74, 0x75, 0x7f, 0x80, 0x94, 0xff];
        for (int i = 0; i < data.Length; i++)
        {
            foreach (byte b in replacements)
            {
                byte[] changed = (byte[])data.Clone();
                changed[i] = b;
                try
                {
                    TorchPickle.Load(changed, Source);
                }
                catch (InvalidDataException)
                {
                }
            }
        }
    }

    [Fact]
    public void Load_MemoReadBeforeWrite_Throws()
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(new Pickle().Proto(2).Op('h', 3).Op('.').Build(), Source));

        Assert.Contains("memo entry 3 is read before it is written", e.Message);
    }

    [Fact]
    public void Load_EmptyStackAtStop_Throws()
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(new Pickle().Proto(2).Op('.').Build(), Source));

        Assert.Contains("the stack is empty", e.Message);
    }

    [Fact]
    public void Load_SetItemOnList_Throws()
    {
        byte[] data = new Pickle().Proto(2).Op(']').Op('K', 1).Op('K', 2).Op('s').Op('.').Build();

        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data, Source));

        Assert.Contains("expected SETITEM to set items of a dict, found a list of 0", e.Message);
    }

    [Fact]
    public void Load_BuildOnTuple_Throws()
    {
        byte[] data = new Pickle().Proto(2).Op(')').Op('}').Op('b').Op('.').Build();

        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data, Source));

        Assert.Contains("BUILD on a tuple of 0 is not allowed", e.Message);
    }

    [Fact]
    public void Load_ReduceOnAString_Throws()
    {
        byte[] data = new Pickle().Proto(2).Str("eval").Op(')').Op('R').Op('.').Build();

        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data, Source));

        Assert.Contains("expected REDUCE to call an allowed function, found str 'eval'", e.Message);
    }

    [Fact]
    public void Load_PersistentIdOtherThanStorage_Throws()
    {
        byte[] data = new Pickle().Proto(2).Str("module").Op(0x85).Op('Q').Op('.').Build();

        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data, Source));

        Assert.Contains("expected a persistent id ('storage', type, key, location, numel)", e.Message);
    }

    [Fact]
    public void Load_StorageDeclaredWithTwoTypes_Throws()
    {
        var p = new Pickle().Proto(2).Op('(');
        p.Op('(').Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Op('K', 4).Op('t').Op('Q');
        p.Op('(').Str("storage").Global("torch", "LongStorage").Str("0").Str("cpu").Op('K', 4).Op('t').Op('Q');
        byte[] data = p.Op('t').Op('.').Build();

        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.Load(data, Source));

        Assert.Contains("storage '0' is declared as both FloatStorage and LongStorage", e.Message);
    }

    [Fact]
    public void Load_QuantizedTensor_ReturnsUnsupportedNamingIt()
    {
        var p = new Pickle().Proto(2).Global("torch._utils", "_rebuild_qtensor").Op('(');
        p.Op('(').Str("storage").Global("torch", "QInt8Storage").Str("0").Str("cpu").Op('K', 2).Op('t').Op('Q');
        byte[] data = p.Op('K', 0).Op('K', 2).Op(0x85).Op('K', 1).Op(0x85)
            .Global("torch", "per_tensor_affine").Op('G').F64(0.1).Op('K', 0).Op(0x87)
            .Op(0x89).Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R').Op('.').Build();

        var unsupported = Assert.IsType<UnsupportedTensor>(TorchPickle.Load(data, Source));

        Assert.Contains("a quantized tensor of qint8", unsupported.What);
    }

    private static object?[] Objects(params object?[] items) => items;

    /// <summary>Pushes the first 4 arguments of _rebuild_tensor_v2 (storage, offset, size, stride) of a 1-D float tensor.</summary>
    private static void TensorArguments(Pickle p, string key, int count, int offset = 0)
    {
        p.Op('(').Str("storage").Global("torch", "FloatStorage").Str(key).Str("cpu").Op('K', (byte)(count + offset)).Op('t').Op('Q');
        p.Op('K', (byte)offset).Op('K', (byte)count).Op(0x85).Op('K', 1).Op(0x85);
    }

    /// <summary>Pushes a whole 1-D float tensor as torch.save writes it: _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).</summary>
    private static void TensorV2(Pickle p, string key, int count)
    {
        p.Global("torch._utils", "_rebuild_tensor_v2").Op('(');
        TensorArguments(p, key, count);
        p.Op(0x89).Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R');
    }

    /// <summary>A protocol-2 state dict of one tensor, as torch.save writes it.</summary>
    private static byte[] StateDictPickle()
    {
        var p = new Pickle().Proto(2).Global("collections", "OrderedDict").Op('q', 0).Op(')').Op('R').Op('q', 1)
            .Op('(').Str("w").Global("torch._utils", "_rebuild_tensor_v2").Op('(');
        TensorArguments(p, "0", 3);
        return p.Op(0x89).Op('h', 0).Op(')').Op('R').Op('t').Op('R').Op('u')
            .Op('}').Str("_metadata").Op('h', 0).Op(')').Op('R').Op('s').Op('b').Op('.').Build();
    }

    /// <summary>Writes pickle bytes opcode by opcode.</summary>
    private sealed class Pickle
    {
        private readonly List<byte> _bytes = [];

        public Pickle Proto(byte protocol) => Op(0x80, protocol);

        public Pickle Op(char opcode, params byte[] operands) => Op((byte)opcode, operands);

        public Pickle Op(byte opcode, params byte[] operands)
        {
            _bytes.Add(opcode);
            _bytes.AddRange(operands);
            return this;
        }

        public Pickle Raw(byte[] bytes)
        {
            _bytes.AddRange(bytes);
            return this;
        }

        public Pickle Ascii(string text) => Raw(Encoding.ASCII.GetBytes(text));

        public Pickle U16(ushort value) => Raw(BitConverter.GetBytes(value));

        public Pickle I32(int value) => Raw(BitConverter.GetBytes(value));

        public Pickle U64(ulong value) => Raw(BitConverter.GetBytes(value));

        public Pickle F64(double value)
        {
            byte[] bytes = new byte[8];
            BinaryPrimitives.WriteDoubleBigEndian(bytes, value);
            return Raw(bytes);
        }

        /// <summary>BINUNICODE: 4-byte length, UTF-8.</summary>
        public Pickle Str(string text) => Op('X').Text32(text);

        public Pickle Text32(string text)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            return I32(utf8.Length).Raw(utf8);
        }

        /// <summary>SHORT_BINUNICODE: 1-byte length, UTF-8.</summary>
        public Pickle ShortStr(string text)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            return Op(0x8c, (byte)utf8.Length).Raw(utf8);
        }

        public Pickle Global(string module, string name) => Op('c').Ascii($"{module}\n{name}\n");

        public byte[] Build() => [.. _bytes];
    }
}
