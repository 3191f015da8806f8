fn main() {
    let dir = std::env::args().nth(1).expect("proto dir");
    let out = std::env::args().nth(2).expect("out dir");
    let fds = protox::compile([format!("{dir}/onnx.proto")], [dir.clone()]).expect("protox");
    let mut c = prost_build::Config::new();
    c.out_dir(&out);
    c.compile_fds(fds).expect("prost-build");
}
