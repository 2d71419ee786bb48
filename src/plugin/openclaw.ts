export default { id: "qwen-portal-auth" }
